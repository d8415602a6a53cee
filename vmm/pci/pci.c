// SPDX-License-Identifier: GPL-2.0-only
/* PCI host bridge: implementation follows. */
#include "pci.h"
#include "kvm_irq.h"
#include "pci_testdev.h"
