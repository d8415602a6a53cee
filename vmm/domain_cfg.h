/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * nfv-vmm --domain FILE: a libvirt domain XML (parsed and validated by mgmt/domain.h) translated into
 * the VM configuration. What the VMM itself cannot do is refused with the element's line: interfaces of
 * type bridge/network need nfvd (which turns them into vhost-user ports of nfv-switch). VFs
 * (<interface type='hostdev'>, <hostdev>) become vfio-pci devices; nfvd prepares and binds them.
 */
#ifndef NFV_VMM_DOMAIN_CFG_H
#define NFV_VMM_DOMAIN_CFG_H

#include "vm.h"

/*
 * Fill @cfg from the domain XML at @path. Strings in @cfg point into storage owned by the returned
 * *@keep (free with domain_cfg_free after the VM is destroyed). 0 or -errno; errors are logged with
 * the file, element and line.
 */
int domain_cfg_load(const char *path, struct vm_cfg *cfg, void **keep) __attribute__((warn_unused_result));
void domain_cfg_free(void *keep);

#endif
