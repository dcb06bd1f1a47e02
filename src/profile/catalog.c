#include "profile/catalog.h"
