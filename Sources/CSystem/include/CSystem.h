#ifndef MCUTUNE_CSYSTEM_H
#define MCUTUNE_CSYSTEM_H
/* Linux calls that Swift's Glibc module does not expose. */

/* Atomically exchanges two existing paths (renameat2 with RENAME_EXCHANGE): 0, or -1 with errno set
   (ENOSYS or EINVAL where the kernel or file system cannot). */
int mcutune_exchange_paths(const char *a, const char *b);

#endif
