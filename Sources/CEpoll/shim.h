#ifndef CEPOLL_SHIM_H
#define CEPOLL_SHIM_H

// Linux's epoll and eventfd, which Swift's Glibc module does not export; the HTTP server's event loops use them.
#include <sys/epoll.h>
#include <sys/eventfd.h>

#endif
