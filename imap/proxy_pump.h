/* proxy_pump.h: relay raw bytes both ways between two streams, for the
 * proxies once the protocol-specific handshake is over (POP3 after
 * authentication, like nginx mail's symmetric proxy handler).
 *
 * Both streams are switched to non-blocking mode for the pump and left
 * that way; the caller frees them afterwards. Bytes each stream already
 * buffered (pipelined commands read before the pump started) are relayed
 * first. Reading from one side pauses while more than PROXY_PUMP_HIGHWATER
 * bytes wait to be written to the other (bounded memory). */
#ifndef PROXY_PUMP_H
#define PROXY_PUMP_H

struct stream;

#define PROXY_PUMP_HIGHWATER (256 * 1024)

/* Relay a <-> b until either side closes, fails, or nothing moves for
 * idle_ms milliseconds (< 0: no limit). What the closing side sent last is
 * still delivered to the other side (flushed, waiting at most idle_ms).
 * Returns 0 when a closed (EOF), 1 when b closed (EOF), ERR_TIMEOUT on
 * idleness, or the error (ERR_IO, ERR_PROTOCOL, ...) of the side that
 * failed. */
int proxy_pump(struct stream *a, struct stream *b, int idle_ms);

#endif
