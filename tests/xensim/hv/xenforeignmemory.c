/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * A stub libxenforeignmemory.so.1 for tests. Xen 4.17's xc_interface_open() opens a foreign
 * memory handle eagerly and fails as a whole when that fails, and the real library fails without
 * /dev/xen/privcmd. xensim simulates no guest memory, so opening succeeds with a dummy handle and
 * every mapping fails with EOPNOTSUPP; nothing xenvirtd does maps guest memory.
 */

#include <errno.h>
#include <stdlib.h>

#include <xenforeignmemory.h>

#define _public_ __attribute__((__visibility__("default")))

struct xenforeignmemory_handle {
        int dummy;
};

_public_ xenforeignmemory_handle *xenforeignmemory_open(struct xentoollog_logger *logger,
                                                        unsigned open_flags) {
        (void) logger;
        (void) open_flags;
        return calloc(1, sizeof(xenforeignmemory_handle));
}

_public_ int xenforeignmemory_close(xenforeignmemory_handle *fmem) {
        free(fmem);
        return 0;
}

_public_ void *xenforeignmemory_map(xenforeignmemory_handle *fmem, uint32_t dom, int prot,
                                    size_t pages, const xen_pfn_t arr[], int err[]) {
        (void) fmem, (void) dom, (void) prot, (void) pages, (void) arr, (void) err;
        errno = EOPNOTSUPP;
        return NULL;
}

_public_ void *xenforeignmemory_map2(xenforeignmemory_handle *fmem, uint32_t dom, void *addr,
                                     int prot, int flags, size_t pages, const xen_pfn_t arr[],
                                     int err[]) {
        (void) fmem, (void) dom, (void) addr, (void) prot, (void) flags, (void) pages, (void) arr,
                (void) err;
        errno = EOPNOTSUPP;
        return NULL;
}

_public_ int xenforeignmemory_unmap(xenforeignmemory_handle *fmem, void *addr, size_t pages) {
        (void) fmem, (void) addr, (void) pages;
        errno = EINVAL;         /* nothing was ever mapped */
        return -1;
}

_public_ int xenforeignmemory_restrict(xenforeignmemory_handle *fmem, domid_t domid) {
        (void) fmem, (void) domid;
        errno = EOPNOTSUPP;
        return -1;
}

_public_ xenforeignmemory_resource_handle *xenforeignmemory_map_resource(
                xenforeignmemory_handle *fmem, domid_t domid, unsigned type, unsigned id,
                unsigned long frame, unsigned long nr_frames, void **paddr, int prot, int flags) {
        (void) fmem, (void) domid, (void) type, (void) id, (void) frame, (void) nr_frames,
                (void) paddr, (void) prot, (void) flags;
        errno = EOPNOTSUPP;
        return NULL;
}

_public_ int xenforeignmemory_unmap_resource(xenforeignmemory_handle *fmem,
                                             xenforeignmemory_resource_handle *fres) {
        (void) fmem;
        /* The real library accepts NULL here and does nothing. */
        if (!fres)
                return 0;
        errno = EINVAL;
        return -1;
}

_public_ int xenforeignmemory_resource_size(xenforeignmemory_handle *fmem, domid_t domid,
                                            unsigned type, unsigned id, size_t *size) {
        (void) fmem, (void) domid, (void) type, (void) id, (void) size;
        errno = EOPNOTSUPP;
        return -1;
}
