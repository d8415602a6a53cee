/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What a device model sees of interrupts: a level-triggered line (INTx/ISA) and, for PCI devices,
 * a vector to signal (MSI/MSI-X). The VMM binds these to KVM (irq line ioctl, or irqfd); tests bind
 * them to counters.
 */
#ifndef NFV_CORE_IRQ_H
#define NFV_CORE_IRQ_H

#include <stddef.h>

struct irq_line {
	void (*set_level)(void *opaque, int level);
	void *opaque;
};

static inline void irq_line_set(const struct irq_line *l, int level)
{
	if (l && l->set_level)
		l->set_level(l->opaque, level);
}

#endif
