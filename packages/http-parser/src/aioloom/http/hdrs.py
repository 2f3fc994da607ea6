"""HTTP method and header-name constants: the public ``aiohttp.hdrs`` vocabulary.

Header names are :class:`multidict.istr` in their canonical spelling, so they are both the
keys that :class:`multidict.CIMultiDict` looks up fastest and the spelling written on the
wire. Method names are plain ``str`` (RFC 9110 §9.1: methods are case-sensitive).
"""

from __future__ import annotations

import itertools
from typing import Final

from multidict import istr

# RFC 9110 §9.3 (and RFC 5789 for PATCH); "*" stands for any method in routing.
METH_ANY: Final[str] = "*"
METH_CONNECT: Final[str] = "CONNECT"
METH_DELETE: Final[str] = "DELETE"
METH_GET: Final[str] = "GET"
METH_HEAD: Final[str] = "HEAD"
METH_OPTIONS: Final[str] = "OPTIONS"
METH_PATCH: Final[str] = "PATCH"
METH_POST: Final[str] = "POST"
METH_PUT: Final[str] = "PUT"
METH_TRACE: Final[str] = "TRACE"

METH_ALL: Final[set[str]] = {
    METH_CONNECT,
    METH_DELETE,
    METH_GET,
    METH_HEAD,
    METH_OPTIONS,
    METH_PATCH,
    METH_POST,
    METH_PUT,
    METH_TRACE,
}

# --- RFC 9110 (HTTP Semantics) and RFC 9111 (Caching) -------------------------------------
ACCEPT: Final[istr] = istr("Accept")  # §12.5.1
ACCEPT_CHARSET: Final[istr] = istr("Accept-Charset")  # §12.5.2
ACCEPT_ENCODING: Final[istr] = istr("Accept-Encoding")  # §12.5.3
ACCEPT_LANGUAGE: Final[istr] = istr("Accept-Language")  # §12.5.4
ACCEPT_RANGES: Final[istr] = istr("Accept-Ranges")  # §14.3
AGE: Final[istr] = istr("Age")  # RFC 9111 §5.1
ALLOW: Final[istr] = istr("Allow")  # §10.2.1
AUTHENTICATION_INFO: Final[istr] = istr("Authentication-Info")  # §11.6.3
AUTHORIZATION: Final[istr] = istr("Authorization")  # §11.6.2
CACHE_CONTROL: Final[istr] = istr("Cache-Control")  # RFC 9111 §5.2
CONNECTION: Final[istr] = istr("Connection")  # §7.6.1
CONTENT_ENCODING: Final[istr] = istr("Content-Encoding")  # §8.4
CONTENT_LANGUAGE: Final[istr] = istr("Content-Language")  # §8.5
CONTENT_LENGTH: Final[istr] = istr("Content-Length")  # §8.6
CONTENT_LOCATION: Final[istr] = istr("Content-Location")  # §8.7
CONTENT_RANGE: Final[istr] = istr("Content-Range")  # §14.4
CONTENT_TYPE: Final[istr] = istr("Content-Type")  # §8.3
DATE: Final[istr] = istr("Date")  # §6.6.1
ETAG: Final[istr] = istr("ETag")  # §8.8.3
EXPECT: Final[istr] = istr("Expect")  # §10.1.1
EXPIRES: Final[istr] = istr("Expires")  # RFC 9111 §5.3
FROM: Final[istr] = istr("From")  # §10.1.2
HOST: Final[istr] = istr("Host")  # §7.2
IF_MATCH: Final[istr] = istr("If-Match")  # §13.1.1
IF_MODIFIED_SINCE: Final[istr] = istr("If-Modified-Since")  # §13.1.3
IF_NONE_MATCH: Final[istr] = istr("If-None-Match")  # §13.1.2
IF_RANGE: Final[istr] = istr("If-Range")  # §13.1.5
IF_UNMODIFIED_SINCE: Final[istr] = istr("If-Unmodified-Since")  # §13.1.4
LAST_MODIFIED: Final[istr] = istr("Last-Modified")  # §8.8.2
LOCATION: Final[istr] = istr("Location")  # §10.2.2
MAX_FORWARDS: Final[istr] = istr("Max-Forwards")  # §7.6.2
PRAGMA: Final[istr] = istr("Pragma")  # RFC 9111 §5.4 (deprecated)
PROXY_AUTHENTICATE: Final[istr] = istr("Proxy-Authenticate")  # §11.7.1
PROXY_AUTHENTICATION_INFO: Final[istr] = istr("Proxy-Authentication-Info")  # §11.7.3
PROXY_AUTHORIZATION: Final[istr] = istr("Proxy-Authorization")  # §11.7.2
RANGE: Final[istr] = istr("Range")  # §14.2
REFERER: Final[istr] = istr("Referer")  # §10.1.3 (the historical spelling)
RETRY_AFTER: Final[istr] = istr("Retry-After")  # §10.2.3
SERVER: Final[istr] = istr("Server")  # §10.2.4
TE: Final[istr] = istr("TE")  # §10.1.4
TRAILER: Final[istr] = istr("Trailer")  # §6.6.2
UPGRADE: Final[istr] = istr("Upgrade")  # §7.8
USER_AGENT: Final[istr] = istr("User-Agent")  # §10.1.5
VARY: Final[istr] = istr("Vary")  # §12.5.5
VIA: Final[istr] = istr("Via")  # §7.6.3
WARNING: Final[istr] = istr("Warning")  # RFC 7234 §5.5 (obsoleted by RFC 9111)
WWW_AUTHENTICATE: Final[istr] = istr("WWW-Authenticate")  # §11.6.1

# --- RFC 9112 (HTTP/1.1) and other IETF documents ------------------------------------------
ALT_SVC: Final[istr] = istr("Alt-Svc")  # RFC 7838 §3
ALT_USED: Final[istr] = istr("Alt-Used")  # RFC 7838 §5
CACHE_STATUS: Final[istr] = istr("Cache-Status")  # RFC 9211
CDN_CACHE_CONTROL: Final[istr] = istr("CDN-Cache-Control")  # RFC 9213
CDN_LOOP: Final[istr] = istr("CDN-Loop")  # RFC 8586
CONTENT_DIGEST: Final[istr] = istr("Content-Digest")  # RFC 9530 §2
CONTENT_DISPOSITION: Final[istr] = istr("Content-Disposition")  # RFC 6266
CONTENT_ID: Final[istr] = istr("Content-ID")  # RFC 2045 §7
CONTENT_MD5: Final[istr] = istr("Content-MD5")  # RFC 1864 (removed from HTTP by RFC 7231)
CONTENT_TRANSFER_ENCODING: Final[istr] = istr("Content-Transfer-Encoding")  # RFC 2045 §6
COOKIE: Final[istr] = istr("Cookie")  # RFC 6265 §5.4
DESTINATION: Final[istr] = istr("Destination")  # RFC 4918 §10.3 (WebDAV)
DIGEST: Final[istr] = istr("Digest")  # RFC 3230 (obsoleted by RFC 9530)
EARLY_DATA: Final[istr] = istr("Early-Data")  # RFC 8470 §5.1
FORWARDED: Final[istr] = istr("Forwarded")  # RFC 7239
KEEP_ALIVE: Final[istr] = istr("Keep-Alive")  # RFC 2068 §19.7.1.1 (HTTP/1.0 keep-alive)
LINK: Final[istr] = istr("Link")  # RFC 8288 §3
ORIGIN: Final[istr] = istr("Origin")  # RFC 6454 §7
PRIORITY: Final[istr] = istr("Priority")  # RFC 9218 §5
REPR_DIGEST: Final[istr] = istr("Repr-Digest")  # RFC 9530 §3
SEC_WEBSOCKET_ACCEPT: Final[istr] = istr("Sec-WebSocket-Accept")  # RFC 6455 §11.3.3
SEC_WEBSOCKET_EXTENSIONS: Final[istr] = istr("Sec-WebSocket-Extensions")  # RFC 6455 §11.3.2
SEC_WEBSOCKET_KEY: Final[istr] = istr("Sec-WebSocket-Key")  # RFC 6455 §11.3.1
SEC_WEBSOCKET_KEY1: Final[istr] = istr("Sec-WebSocket-Key1")  # draft-hixie-76
SEC_WEBSOCKET_PROTOCOL: Final[istr] = istr("Sec-WebSocket-Protocol")  # RFC 6455 §11.3.4
SEC_WEBSOCKET_VERSION: Final[istr] = istr("Sec-WebSocket-Version")  # RFC 6455 §11.3.5
SET_COOKIE: Final[istr] = istr("Set-Cookie")  # RFC 6265 §5.2
STRICT_TRANSPORT_SECURITY: Final[istr] = istr("Strict-Transport-Security")  # RFC 6797
TRANSFER_ENCODING: Final[istr] = istr("Transfer-Encoding")  # RFC 9112 §6.1
URI: Final[istr] = istr("URI")  # RFC 2068 §19.6.2.5 (historical)
WANT_CONTENT_DIGEST: Final[istr] = istr("Want-Content-Digest")  # RFC 9530 §4
WANT_DIGEST: Final[istr] = istr("Want-Digest")  # RFC 3230 (obsoleted by RFC 9530)
WANT_REPR_DIGEST: Final[istr] = istr("Want-Repr-Digest")  # RFC 9530 §4

# --- Web platform specifications (W3C, WHATWG, WICG), sent and read by browsers -----------
ACCEPT_CH: Final[istr] = istr("Accept-CH")  # RFC 8942 §3.1 (Client Hints)
ACCESS_CONTROL_ALLOW_CREDENTIALS: Final[istr] = istr("Access-Control-Allow-Credentials")
ACCESS_CONTROL_ALLOW_HEADERS: Final[istr] = istr("Access-Control-Allow-Headers")
ACCESS_CONTROL_ALLOW_METHODS: Final[istr] = istr("Access-Control-Allow-Methods")
ACCESS_CONTROL_ALLOW_ORIGIN: Final[istr] = istr("Access-Control-Allow-Origin")
ACCESS_CONTROL_EXPOSE_HEADERS: Final[istr] = istr("Access-Control-Expose-Headers")
ACCESS_CONTROL_MAX_AGE: Final[istr] = istr("Access-Control-Max-Age")
ACCESS_CONTROL_REQUEST_HEADERS: Final[istr] = istr("Access-Control-Request-Headers")
ACCESS_CONTROL_REQUEST_METHOD: Final[istr] = istr("Access-Control-Request-Method")
BAGGAGE: Final[istr] = istr("baggage")  # W3C Baggage (lower case by that spec)
CLEAR_SITE_DATA: Final[istr] = istr("Clear-Site-Data")
CONTENT_SECURITY_POLICY: Final[istr] = istr("Content-Security-Policy")
CONTENT_SECURITY_POLICY_REPORT_ONLY: Final[istr] = istr("Content-Security-Policy-Report-Only")
CROSS_ORIGIN_EMBEDDER_POLICY: Final[istr] = istr("Cross-Origin-Embedder-Policy")
CROSS_ORIGIN_OPENER_POLICY: Final[istr] = istr("Cross-Origin-Opener-Policy")
CROSS_ORIGIN_RESOURCE_POLICY: Final[istr] = istr("Cross-Origin-Resource-Policy")
LAST_EVENT_ID: Final[istr] = istr("Last-Event-ID")  # HTML server-sent events
NEL: Final[istr] = istr("NEL")  # Network Error Logging
ORIGIN_AGENT_CLUSTER: Final[istr] = istr("Origin-Agent-Cluster")
PERMISSIONS_POLICY: Final[istr] = istr("Permissions-Policy")
REFERRER_POLICY: Final[istr] = istr("Referrer-Policy")
REPORTING_ENDPOINTS: Final[istr] = istr("Reporting-Endpoints")
REPORT_TO: Final[istr] = istr("Report-To")
SEC_CH_UA: Final[istr] = istr("Sec-CH-UA")
SEC_CH_UA_MOBILE: Final[istr] = istr("Sec-CH-UA-Mobile")
SEC_CH_UA_PLATFORM: Final[istr] = istr("Sec-CH-UA-Platform")
SEC_FETCH_DEST: Final[istr] = istr("Sec-Fetch-Dest")
SEC_FETCH_MODE: Final[istr] = istr("Sec-Fetch-Mode")
SEC_FETCH_SITE: Final[istr] = istr("Sec-Fetch-Site")
SEC_FETCH_USER: Final[istr] = istr("Sec-Fetch-User")
SEC_GPC: Final[istr] = istr("Sec-GPC")  # Global Privacy Control
SEC_PURPOSE: Final[istr] = istr("Sec-Purpose")
SERVER_TIMING: Final[istr] = istr("Server-Timing")
TIMING_ALLOW_ORIGIN: Final[istr] = istr("Timing-Allow-Origin")
TRACEPARENT: Final[istr] = istr("traceparent")  # W3C Trace Context (lower case by that spec)
TRACESTATE: Final[istr] = istr("tracestate")
UPGRADE_INSECURE_REQUESTS: Final[istr] = istr("Upgrade-Insecure-Requests")
X_CONTENT_TYPE_OPTIONS: Final[istr] = istr("X-Content-Type-Options")
X_FRAME_OPTIONS: Final[istr] = istr("X-Frame-Options")

# --- De facto: added by reverse proxies and load balancers --------------------------------
X_FORWARDED_FOR: Final[istr] = istr("X-Forwarded-For")
X_FORWARDED_HOST: Final[istr] = istr("X-Forwarded-Host")
X_FORWARDED_PORT: Final[istr] = istr("X-Forwarded-Port")
X_FORWARDED_PROTO: Final[istr] = istr("X-Forwarded-Proto")
X_REAL_IP: Final[istr] = istr("X-Real-IP")
X_REQUEST_ID: Final[istr] = istr("X-Request-ID")

# --- De facto: set by applications and frameworks -----------------------------------------
X_CORRELATION_ID: Final[istr] = istr("X-Correlation-ID")
X_POWERED_BY: Final[istr] = istr("X-Powered-By")
X_RATELIMIT_LIMIT: Final[istr] = istr("X-RateLimit-Limit")
X_RATELIMIT_REMAINING: Final[istr] = istr("X-RateLimit-Remaining")
X_RATELIMIT_RESET: Final[istr] = istr("X-RateLimit-Reset")
X_REQUESTED_WITH: Final[istr] = istr("X-Requested-With")
X_XSS_PROTECTION: Final[istr] = istr("X-XSS-Protection")

# Every upper/lower-case spelling of "Host" (16 of them), for code that matches raw header
# names before case folding (a parser fast path).
HOST_ALL: Final[frozenset[str]] = frozenset(
    "".join(letters) for letters in itertools.product(*(c.upper() + c.lower() for c in HOST))
)
