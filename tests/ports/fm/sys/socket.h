/* tests/ports/fm/sys/socket.h - used only by tests/ports/featuremacros.sh
   (-isystem tests/ports/fm): glibc's <sys/socket.h>, then MSG_NOSIGNAL and
   SO_NOSIGPIPE made visible or hidden the way another platform's headers
   decide it from the feature macros the program set (captured by
   fm/features.h before glibc changes them); FM_SIM_<platform> names it.
   Everything else stays glibc's: only these two macros are simulated.
   The rules, from each system's own headers:
     darwin   xnu bsd/sys/cdefs.h, bsd/sys/socket.h: _XOPEN_SOURCE 700/600/500
              raises _POSIX_C_SOURCE to 200809/200112/199506 (never lowers it);
              __DARWIN_C_LEVEL is _POSIX_C_SOURCE when that is defined without
              _DARWIN_C_SOURCE or _NONSTD_SOURCE, else 900000 ("full");
              MSG_NOSIGNAL (0x80000) needs __DARWIN_C_LEVEL >= 200809L;
              SO_NOSIGPIPE (0x1022) needs !_POSIX_C_SOURCE || _DARWIN_C_SOURCE.
     freebsd  sys/sys/cdefs.h, sys/sys/socket.h: _XOPEN_SOURCE 700/600/500 sets
              _POSIX_C_SOURCE to 200809/200112/199506; with _POSIX_C_SOURCE
              defined __POSIX_VISIBLE is its level and __BSD_VISIBLE is not set
              (0 unless the program defines it), else 200809 and 1;
              MSG_NOSIGNAL (0x20000) needs __POSIX_VISIBLE >= 200809,
              SO_NOSIGPIPE (0x0800) needs __BSD_VISIBLE.
     netbsd   sys/sys/socket.h: MSG_NOSIGNAL (0x0400) and SO_NOSIGPIPE (0x0800)
              unconditional.
     openbsd  sys/sys/socket.h: MSG_NOSIGNAL (0x400) unconditional; no
              SO_NOSIGPIPE. */
#pragma GCC system_header
#include_next <sys/socket.h>
#ifndef FM_SIM_SOCKET_H
#define FM_SIM_SOCKET_H

#undef SO_NOSIGPIPE
#if defined(FM_SIM_darwin)
#  undef MSG_NOSIGNAL
#  if defined(FM_XOS) && FM_XOS >= 700
#    define FM_XPCS 200809L
#  elif defined(FM_XOS) && FM_XOS >= 600
#    define FM_XPCS 200112L
#  elif defined(FM_XOS) && FM_XOS >= 500
#    define FM_XPCS 199506L
#  endif
#  if defined(FM_XPCS) && (!defined(FM_PCS) || FM_PCS < FM_XPCS)
#    define FM_POSIX FM_XPCS
#  elif defined(FM_PCS)
#    define FM_POSIX FM_PCS
#  endif
#  if defined(FM_POSIX) && !defined(FM_DARWIN_FULL)
#    define FM_LEVEL FM_POSIX
#  else
#    define FM_LEVEL 900000L
#  endif
#  if FM_LEVEL >= 200809L
#    define MSG_NOSIGNAL 0x80000
#  endif
#  if !defined(FM_POSIX) || defined(FM_DARWIN_FULL)
#    define SO_NOSIGPIPE 0x1022
#  endif
#elif defined(FM_SIM_freebsd)
#  undef MSG_NOSIGNAL
#  if defined(FM_XOS) && FM_XOS >= 700
#    define FM_POSIX 200809L
#  elif defined(FM_XOS) && FM_XOS >= 600
#    define FM_POSIX 200112L
#  elif defined(FM_XOS) && FM_XOS >= 500
#    define FM_POSIX 199506L
#  elif defined(FM_PCS)
#    define FM_POSIX FM_PCS
#  endif
#  ifdef FM_POSIX
#    define FM_POSIX_VISIBLE FM_POSIX
#    ifdef FM_BSDV
#      define FM_BSD_VISIBLE FM_BSDV
#    else
#      define FM_BSD_VISIBLE 0
#    endif
#  else
#    define FM_POSIX_VISIBLE 200809L
#    define FM_BSD_VISIBLE 1
#  endif
#  if FM_POSIX_VISIBLE >= 200809L
#    define MSG_NOSIGNAL 0x20000
#  endif
#  if FM_BSD_VISIBLE
#    define SO_NOSIGPIPE 0x0800
#  endif
#elif defined(FM_SIM_netbsd)
#  undef MSG_NOSIGNAL
#  define MSG_NOSIGNAL 0x0400
#  define SO_NOSIGPIPE 0x0800
#elif defined(FM_SIM_openbsd)
#  undef MSG_NOSIGNAL
#  define MSG_NOSIGNAL 0x400
#endif

#endif
