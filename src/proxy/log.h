/* Recording decisions (internal to the proxy; the public part is in proxy.h). */
#ifndef SH_PROXY_LOG_H
#define SH_PROXY_LOG_H

#include "proxy/filter.h"
#include "proxy/proxy.h"

/* Count the decision and write one line to the stream, if any:
 *   "<time> allow <proto> <host:port> rule=<pattern>"
 *   "<time> deny <proto> <host:port> reason=<reason> [<detail>]"
 * Only canonical, validated host text is written.  log may be NULL. */
void sh_proxy_log_decision(struct sh_proxy_log *log, const char *proto,
			   const struct sh_proxy_verdict *v);

/* A non-decision event (upstream connect failure, ...): a line, no count. */
__attribute__((format(printf, 2, 3)))
void sh_proxy_log_event(struct sh_proxy_log *log, const char *fmt, ...);

#endif
