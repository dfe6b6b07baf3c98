// SPDX-License-Identifier: GPL-2.0
/*
 * /sys/class/net/<master>/vfpath/: the settings (mode, settle_ms,
 * peer_notify, peer_notify_interval_ms; writable), the state (active_path,
 * last_switch_reason) and every counter of ethtool -S, one value per file.
 */
#include <linux/device.h>
#include <linux/kernel.h>
#include <linux/netdevice.h>
#include <linux/rtnetlink.h>
#include <linux/sysfs.h>

#include "vfpath.h"

#define to_vm(d)	((struct vfpath_master *)netdev_priv(to_net_dev(d)))

/*
 * Context: process (sysfs read), RCU. Never RTNL: unregistering the master
 * holds RTNL while it waits for this file's readers to leave. The path is
 * told as transmit tells it, by comparing with the VF slot.
 */
static ssize_t active_path_show(struct device *d, struct device_attribute *attr,
				char *buf)
{
	struct vfpath_master *vm = to_vm(d);
	struct net_device *tx;
	const char *s = "none";

	rcu_read_lock();
	tx = rcu_dereference(vm->tx_dev);
	if (tx)
		s = vfpath_path_name(tx == rcu_access_pointer(vm->slave[VFPATH_PATH_VF]) ?
				     VFPATH_PATH_VF : VFPATH_PATH_SYN);
	rcu_read_unlock();
	return sysfs_emit(buf, "%s\n", s);
}
static DEVICE_ATTR_RO(active_path);

/*
 * Context: RTNL. A setting changed through sysfs is announced as a
 * changelink announces it (netdev_state_change(), as do_setlink() does):
 * one RTM_NEWLINK with the new IFLA_INFO_DATA.
 */
static void vfpath_sysfs_notify(struct vfpath_master *vm)
{
	ASSERT_RTNL();
	netdev_state_change(vm->dev);
}

/* Context: process (sysfs read). */
static ssize_t last_switch_reason_show(struct device *d,
				       struct device_attribute *attr, char *buf)
{
	struct vfpath_master *vm = to_vm(d);

	if (!atomic64_read(&vm->switches))
		return sysfs_emit(buf, "none\n");
	return sysfs_emit(buf, "%s\n", vfpath_reason_name(READ_ONCE(vm->last_reason)));
}
static DEVICE_ATTR_RO(last_switch_reason);

/* Context: process (sysfs read). */
static ssize_t mode_show(struct device *d, struct device_attribute *attr,
			 char *buf)
{
	return sysfs_emit(buf, "%s\n", READ_ONCE(to_vm(d)->mode) ==
			  VFPATH_MODE_SYNTHETIC ? "synthetic" : "auto");
}

/* Context: process (sysfs write); takes RTNL. */
static ssize_t mode_store(struct device *d, struct device_attribute *attr,
			  const char *buf, size_t count)
{
	struct vfpath_master *vm = to_vm(d);
	enum vfpath_mode mode;

	if (sysfs_streq(buf, "auto"))
		mode = VFPATH_MODE_AUTO;
	else if (sysfs_streq(buf, "synthetic"))
		mode = VFPATH_MODE_SYNTHETIC;
	else
		return -EINVAL;
	if (!rtnl_trylock())
		return restart_syscall();
	vfpath_set_mode(vm, mode);
	vfpath_sysfs_notify(vm);
	rtnl_unlock();
	return count;
}
static DEVICE_ATTR_RW(mode);

/* A bounded u32 setting of the master, written under RTNL. */
struct vfpath_setting_attr {
	struct device_attribute attr;
	size_t offset;		/* of the u32 in struct vfpath_master */
	u32 min, max;
};

#define to_setting(a)	container_of(a, struct vfpath_setting_attr, attr)

static u32 *vfpath_setting(struct device *d, struct device_attribute *attr)
{
	return (u32 *)((char *)to_vm(d) + to_setting(attr)->offset);
}

/* Context: process (sysfs read). */
static ssize_t vfpath_setting_show(struct device *d,
				   struct device_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%u\n", READ_ONCE(*vfpath_setting(d, attr)));
}

/* Context: process (sysfs write); takes RTNL. */
static ssize_t vfpath_setting_store(struct device *d,
				    struct device_attribute *attr,
				    const char *buf, size_t count)
{
	const struct vfpath_setting_attr *sa = to_setting(attr);
	u32 v;

	if (kstrtou32(buf, 0, &v) || v < sa->min || v > sa->max)
		return -EINVAL;
	if (!rtnl_trylock())
		return restart_syscall();
	WRITE_ONCE(*vfpath_setting(d, attr), v);
	vfpath_sysfs_notify(to_vm(d));
	rtnl_unlock();
	return count;
}

static struct vfpath_setting_attr vfpath_attr_settle_ms = {
	.attr = __ATTR(settle_ms, 0644, vfpath_setting_show, vfpath_setting_store),
	.offset = offsetof(struct vfpath_master, settle_ms),
	.min = 0, .max = 60000,
};

static struct vfpath_setting_attr vfpath_attr_peer_notify = {
	.attr = __ATTR(peer_notify, 0644, vfpath_setting_show, vfpath_setting_store),
	.offset = offsetof(struct vfpath_master, peer_notify),
	.min = 0, .max = 255,
};

static struct vfpath_setting_attr vfpath_attr_peer_notify_interval_ms = {
	.attr = __ATTR(peer_notify_interval_ms, 0644, vfpath_setting_show,
		       vfpath_setting_store),
	.offset = offsetof(struct vfpath_master, peer_notify_interval_ms),
	.min = 1, .max = 10000,
};

/* Context: process (sysfs read). One counter, found by its file name. */
static ssize_t vfpath_counter_show(struct device *d,
				   struct device_attribute *attr, char *buf)
{
	u64 v[VFPATH_NR_COUNTERS];
	int i;

	for (i = 0; i < VFPATH_NR_COUNTERS; i++)
		if (!strcmp(attr->attr.name, vfpath_counter_names[i]))
			break;
	if (i == VFPATH_NR_COUNTERS)
		return -ENOENT;
	vfpath_counters_read(to_vm(d), v);
	return sysfs_emit(buf, "%llu\n", v[i]);
}

static struct device_attribute vfpath_counter_attrs[VFPATH_NR_COUNTERS];

#define VFPATH_NR_SETTINGS	6

static struct attribute *vfpath_attrs[VFPATH_NR_SETTINGS + VFPATH_NR_COUNTERS + 1] = {
	&dev_attr_active_path.attr,
	&dev_attr_last_switch_reason.attr,
	&dev_attr_mode.attr,
	&vfpath_attr_settle_ms.attr.attr,
	&vfpath_attr_peer_notify.attr.attr,
	&vfpath_attr_peer_notify_interval_ms.attr.attr,
	/* the counters: vfpath_sysfs_init() */
};

const struct attribute_group vfpath_sysfs_group = {
	.name	= "vfpath",
	.attrs	= vfpath_attrs,
};

/* Context: process, module init, before any master exists. */
void vfpath_sysfs_init(void)
{
	int i, n = VFPATH_NR_SETTINGS;

	for (i = 0; i < VFPATH_NR_COUNTERS; i++) {
		sysfs_attr_init(&vfpath_counter_attrs[i].attr);
		vfpath_counter_attrs[i].attr.name = vfpath_counter_names[i];
		vfpath_counter_attrs[i].attr.mode = 0444;
		vfpath_counter_attrs[i].show = vfpath_counter_show;
		vfpath_attrs[n++] = &vfpath_counter_attrs[i].attr;
	}
	vfpath_attrs[n] = NULL;
}
