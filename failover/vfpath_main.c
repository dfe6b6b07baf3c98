// SPDX-License-Identifier: GPL-2.0
/*
 * vfpath - pairs an SR-IOV VF with a virtio-net NIC under one netdev, so a
 * guest keeps its address and its connections while the VF is revoked for a
 * live migration and another one is offered on the destination host.
 *
 * This file holds the module parameters and the load/unload order; the
 * master netdev, its link kind, pairing, the datapath and the two slave
 * roles live in their own files.
 */
#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/rtnetlink.h>

#include "vfpath.h"

bool vfpath_auto_pair = true;
/* Set under RTNL by module exit: no master may be created from then on. */
bool vfpath_unloading;

/*
 * Context: process (module load or sysfs write); takes RTNL. Once unloading
 * has begun, auto_pair cannot be turned on again: a master created after
 * exit removed them all would outlive the module.
 */
static int vfpath_auto_pair_set(const char *arg, const struct kernel_param *kp)
{
	bool v;

	if (kstrtobool(arg, &v)) {
		pr_err("auto_pair=%s: must be 0 or 1 (or y/n)\n", arg);
		return -EINVAL;
	}
	/* rmmod has begun (exit may be waiting for RTNL): refuse at once. */
	if (!module_is_live(THIS_MODULE))
		goto err_unloading;
	rtnl_lock();
	if (vfpath_unloading) {
		rtnl_unlock();
		goto err_unloading;
	}
	WRITE_ONCE(vfpath_auto_pair, v);
	rtnl_unlock();
	return 0;

err_unloading:
	pr_err("auto_pair: vfpath is being unloaded\n");
	return -EBUSY;
}

static const struct kernel_param_ops vfpath_auto_pair_ops = {
	.set = vfpath_auto_pair_set,
	.get = param_get_bool,
};
module_param_cb(auto_pair, &vfpath_auto_pair_ops, &vfpath_auto_pair, 0644);
MODULE_PARM_DESC(auto_pair,
		 "Pair a virtio-net and a PCI netdev with the same permanent MAC (default: on)");

unsigned int vfpath_settle_ms = 100;
unsigned int vfpath_peer_notify = 1;
unsigned int vfpath_peer_notify_interval_ms = 100;

/* A bounded unsigned parameter: out-of-range values fail insmod. */
struct vfpath_uint_param {
	unsigned int *val;
	unsigned int min, max;
};

/* Context: process (module load or sysfs write). */
static int vfpath_param_set(const char *arg, const struct kernel_param *kp)
{
	const struct vfpath_uint_param *p = kp->arg;
	unsigned int v;

	if (kstrtouint(arg, 0, &v) || v < p->min || v > p->max) {
		pr_err("%s=%s: must be an integer from %u to %u\n",
		       kp->name, arg, p->min, p->max);
		return -EINVAL;
	}
	WRITE_ONCE(*p->val, v);
	return 0;
}

/* Context: process (sysfs read). */
static int vfpath_param_get(char *buf, const struct kernel_param *kp)
{
	const struct vfpath_uint_param *p = kp->arg;

	return sysfs_emit(buf, "%u\n", READ_ONCE(*p->val));
}

static const struct kernel_param_ops vfpath_uint_param_ops = {
	.set = vfpath_param_set,
	.get = vfpath_param_get,
};

static struct vfpath_uint_param vfpath_param_settle_ms = {
	.val = &vfpath_settle_ms, .min = 0, .max = 60000,
};
module_param_cb(settle_ms, &vfpath_uint_param_ops, &vfpath_param_settle_ms, 0644);
MODULE_PARM_DESC(settle_ms,
		 "How long a VF must stay up with carrier before traffic returns to it, ms (default 100, 0-60000; new masters)");

static struct vfpath_uint_param vfpath_param_peer_notify = {
	.val = &vfpath_peer_notify, .min = 0, .max = 255,
};
module_param_cb(peer_notify, &vfpath_uint_param_ops, &vfpath_param_peer_notify, 0644);
MODULE_PARM_DESC(peer_notify,
		 "Gratuitous ARPs and unsolicited NAs sent after each switch (default 1, 0-255; new masters)");

static struct vfpath_uint_param vfpath_param_peer_notify_interval = {
	.val = &vfpath_peer_notify_interval_ms, .min = 1, .max = 10000,
};
module_param_cb(peer_notify_interval_ms, &vfpath_uint_param_ops,
		&vfpath_param_peer_notify_interval, 0644);
MODULE_PARM_DESC(peer_notify_interval_ms,
		 "Spacing of those announcements, ms (default 100, 1-10000; new masters)");

static int __init vfpath_init(void)
{
	int err;

	vfpath_sysfs_init();
	err = vfpath_link_register();
	if (err)
		return err;
	err = vfpath_notifier_register();
	if (err)
		goto err_unregister_link;
	err = vfpath_vf_bus_notifier_register();
	if (err)
		goto err_unregister_notifier;
	pr_info("version %s loaded (auto_pair=%d settle_ms=%u peer_notify=%u)\n",
		VFPATH_DRV_VERSION, vfpath_auto_pair, vfpath_settle_ms,
		vfpath_peer_notify);
	return 0;

err_unregister_notifier:
	vfpath_notifier_unregister();
err_unregister_link:
	vfpath_link_unregister();
	return err;
}

/*
 * Masters go first (their slaves released, as they were), then the notifiers:
 * with no master left, the notifier's unregister replay has nothing to do.
 */
static void __exit vfpath_exit(void)
{
	rtnl_lock();
	vfpath_unloading = true;	/* no new master from here on */
	vfpath_auto_pair = false;
	rtnl_unlock();
	vfpath_vf_bus_notifier_unregister();
	vfpath_link_unregister();
	vfpath_notifier_unregister();
	pr_info("unloaded\n");
}

module_init(vfpath_init);
module_exit(vfpath_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("VF + virtio-net failover master for live-migratable guests");
MODULE_VERSION(VFPATH_DRV_VERSION);
