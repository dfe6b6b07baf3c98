/* SPDX-License-Identifier: GPL-2.0 */
/*
 * One version for vfpath.ko and the drop-in net_failover.ko (and
 * dkms.conf, which tests/install.sh holds to it). A macro only: the
 * drop-in includes it without changing the types its CRCs cover.
 */
#ifndef _VFPATH_VERSION_H
#define _VFPATH_VERSION_H

#define VFPATH_DRV_VERSION	"0.3.0"

#endif /* _VFPATH_VERSION_H */
