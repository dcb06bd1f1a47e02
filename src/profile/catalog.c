/* placeholder: implemented with the CLI */
#include "profile/catalog.h"
