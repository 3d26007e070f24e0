// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Runs the real purgatory blob, as embedded in the loader, in a KVM guest
 * that enters it the way a crashing kernel does: 64-bit mode, interrupts
 * off, an identity map, a GDT and IDT of limit 0 and a stack pointer into
 * unmapped memory, so that any use of either before purgatory replaces them
 * ends in a triple fault. The guest's "capture kernel" is a single hlt; the
 * test checks what purgatory printed on the emulated UART and the registers
 * it handed over, and that it stops on a digest mismatch.
 *
 * Exits 77 (skipped) where /dev/kvm cannot be used or KEXEC_HP_SKIP_KVM_TESTS is set
 * (package builds, which must not touch /dev/kvm).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <nettle/sha2.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "purgatory.h"

#define EXIT_SKIP 77

#define GUEST_SIZE 0x800000 /* 8 MiB, identity mapped with 2 MiB pages */
#define GUEST_PML4 0x1000
#define GUEST_PDPT 0x2000
#define GUEST_PD 0x3000
#define GUEST_KERNEL 0x100000 /* the stand-in capture kernel: one hlt */
#define GUEST_BOOT_PARAMS 0x101000 /* only passed through in %rsi, never read */
#define GUEST_BAD_STACK 0x40000000 /* not mapped: a push there triple-faults */
#define UART 0x3f8

#define PTE_PRESENT 0x1
#define PTE_WRITE 0x2
#define PTE_LARGE 0x80

#define CR0_PE 0x1
#define CR0_ET 0x10
#define CR0_NE 0x20
#define CR0_PG 0x80000000
#define CR4_PAE 0x20
#define EFER_LME 0x100
#define EFER_LMA 0x400
#define RFLAGS_IF 0x200

/* Data ranges the digest covers: odd lengths and an odd start on purpose. */
static const struct purgatory_range test_ranges[] = {
	{ 0x600000, 0x20001 },
	{ 0x680003, 0x3 },
	{ 0x700000, 0x1000 },
};
#define NR_TEST_RANGES (sizeof(test_ranges) / sizeof(test_ranges[0]))

struct vm {
	int kvm, fd, vcpu;
	struct kvm_run *run;
	uint8_t *mem;
};

/* What the emulated 8250 saw. */
struct uart {
	char out[4096];
	size_t len;
	uint8_t lcr;
	uint16_t divisor;
	unsigned int io_exits;
};

enum stop { STOP_HLT, STOP_SHUTDOWN, STOP_OTHER };

static int failures;

static __attribute__((format(printf, 2, 3))) void fail(const char *scenario, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "FAIL %s: ", scenario);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	failures++;
}

static void uart_io(struct uart *u, struct kvm_run *run)
{
	uint8_t *data = (uint8_t *)run + run->io.data_offset;
	unsigned int reg = run->io.port - UART;

	u->io_exits++;
	if (run->io.direction == KVM_EXIT_IO_IN) {
		/* The line status register: transmitter always empty, so no polling loop spins. */
		*data = reg == 5 ? 0x60 : 0;
		return;
	}

	if (reg == 3)
		u->lcr = *data;
	else if (reg == 0 && (u->lcr & 0x80))
		u->divisor = (u->divisor & 0xff00) | *data;
	else if (reg == 1 && (u->lcr & 0x80))
		u->divisor = (u->divisor & 0x00ff) | *data << 8;
	else if (reg == 0 && u->len < sizeof(u->out) - 1)
		u->out[u->len++] = (char)*data;
}

/* Runs until the guest halts or dies; I/O to the UART is emulated on the way. */
static enum stop run_guest(struct vm *vm, struct uart *u, const char *scenario)
{
	for (;;) {
		if (ioctl(vm->vcpu, KVM_RUN, 0) < 0) {
			fail(scenario, "KVM_RUN: %s", strerror(errno));
			return STOP_OTHER;
		}
		switch (vm->run->exit_reason) {
		case KVM_EXIT_IO:
			if (vm->run->io.port < UART || vm->run->io.port > UART + 7 ||
			    vm->run->io.size != 1 || vm->run->io.count != 1) {
				fail(scenario, "unexpected I/O to port 0x%x", vm->run->io.port);
				return STOP_OTHER;
			}
			uart_io(u, vm->run);
			break;
		case KVM_EXIT_HLT:
			return STOP_HLT;
		case KVM_EXIT_SHUTDOWN:
			return STOP_SHUTDOWN;
		default:
			fail(scenario, "unexpected KVM exit %u", vm->run->exit_reason);
			return STOP_OTHER;
		}
	}
}

static int vm_open(struct vm *vm)
{
	struct kvm_userspace_memory_region region;
	int size;

	if (getenv("KEXEC_HP_SKIP_KVM_TESTS")) {
		printf("SKIP: KEXEC_HP_SKIP_KVM_TESTS is set\n");
		return EXIT_SKIP;
	}
	vm->kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (vm->kvm < 0) {
		printf("SKIP: cannot open /dev/kvm: %s\n", strerror(errno));
		return EXIT_SKIP;
	}
	if (ioctl(vm->kvm, KVM_GET_API_VERSION, 0) != KVM_API_VERSION) {
		printf("SKIP: unexpected KVM API version\n");
		return EXIT_SKIP;
	}
	vm->fd = ioctl(vm->kvm, KVM_CREATE_VM, 0);
	if (vm->fd < 0) {
		printf("SKIP: KVM_CREATE_VM: %s\n", strerror(errno));
		return EXIT_SKIP;
	}

	vm->mem =
		mmap(NULL, GUEST_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (vm->mem == MAP_FAILED) {
		perror("mmap guest memory");
		return EXIT_FAILURE;
	}
	region = (struct kvm_userspace_memory_region){
		.slot = 0,
		.guest_phys_addr = 0,
		.memory_size = GUEST_SIZE,
		.userspace_addr = (uintptr_t)vm->mem,
	};
	if (ioctl(vm->fd, KVM_SET_USER_MEMORY_REGION, &region) < 0) {
		perror("KVM_SET_USER_MEMORY_REGION");
		return EXIT_FAILURE;
	}

	vm->vcpu = ioctl(vm->fd, KVM_CREATE_VCPU, 0);
	size = ioctl(vm->kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (vm->vcpu < 0 || size <= 0) {
		perror("KVM_CREATE_VCPU");
		return EXIT_FAILURE;
	}
	vm->run = mmap(NULL, (size_t)size, PROT_READ | PROT_WRITE, MAP_SHARED, vm->vcpu, 0);
	if (vm->run == MAP_FAILED) {
		perror("mmap kvm_run");
		return EXIT_FAILURE;
	}
	return 0;
}

static void set_segment(struct kvm_segment *seg, uint16_t selector, bool code)
{
	*seg = (struct kvm_segment){
		.selector = selector,
		.limit = 0xffffffff,
		.type = code ? 0xb : 0x3,
		.present = 1,
		.s = 1,
		.l = code,
		.db = !code,
		.g = 1,
	};
}

/* Fresh memory, page tables and CPU state for one run of the blob loaded at base. */
static int prepare(struct vm *vm, uint64_t base)
{
	uint64_t *pml4 = (uint64_t *)(vm->mem + GUEST_PML4);
	uint64_t *pdpt = (uint64_t *)(vm->mem + GUEST_PDPT);
	uint64_t *pd = (uint64_t *)(vm->mem + GUEST_PD);
	struct kvm_sregs sregs;
	struct kvm_regs regs;
	uint64_t addr;

	/* Garbage everywhere, the tail of purgatory's memsz too: nothing may count on zeroes. */
	memset(vm->mem, 0xa5, GUEST_SIZE);
	memset(vm->mem + GUEST_PML4, 0, 3 * 0x1000);
	pml4[0] = GUEST_PDPT | PTE_PRESENT | PTE_WRITE;
	pdpt[0] = GUEST_PD | PTE_PRESENT | PTE_WRITE;
	for (addr = 0; addr < GUEST_SIZE; addr += 0x200000)
		pd[addr / 0x200000] = addr | PTE_PRESENT | PTE_WRITE | PTE_LARGE;

	vm->mem[GUEST_KERNEL] = 0xf4; /* hlt */
	memcpy(vm->mem + base, purgatory_blob, purgatory_blob_size);

	if (ioctl(vm->vcpu, KVM_GET_SREGS, &sregs) < 0) {
		perror("KVM_GET_SREGS");
		return -1;
	}
	set_segment(&sregs.cs, 0x08, true);
	set_segment(&sregs.ds, 0x20, false);
	sregs.es = sregs.fs = sregs.gs = sregs.ss = sregs.ds;
	/* The descriptor tables a crashing kernel may leave: none at all. */
	sregs.gdt.base = 0;
	sregs.gdt.limit = 0;
	sregs.idt.base = 0;
	sregs.idt.limit = 0;
	sregs.cr3 = GUEST_PML4;
	sregs.cr4 = CR4_PAE;
	sregs.cr0 = CR0_PE | CR0_ET | CR0_NE | CR0_PG;
	sregs.efer = EFER_LME | EFER_LMA;
	if (ioctl(vm->vcpu, KVM_SET_SREGS, &sregs) < 0) {
		perror("KVM_SET_SREGS");
		return -1;
	}

	/* Every register holds junk, as it would after a panic; DF set to catch a missing cld. */
	memset(&regs, 0x5a, sizeof(regs));
	regs.rip = base;
	regs.rsp = GUEST_BAD_STACK;
	regs.rflags = 0x2 | 0x400;
	if (ioctl(vm->vcpu, KVM_SET_REGS, &regs) < 0) {
		perror("KVM_SET_REGS");
		return -1;
	}
	return 0;
}

static void fill_ranges(struct vm *vm, struct purgatory_params *params)
{
	struct sha256_ctx ctx;
	uint32_t x = 2463534242u;
	size_t i, j;

	sha256_init(&ctx);
	for (i = 0; i < NR_TEST_RANGES; i++) {
		uint8_t *p = vm->mem + test_ranges[i].start;

		for (j = 0; j < test_ranges[i].len; j++) {
			x ^= x << 13;
			x ^= x >> 17;
			x ^= x << 5;
			p[j] = (uint8_t)x;
		}
		sha256_update(&ctx, test_ranges[i].len, p);
		params->ranges[i] = test_ranges[i];
	}
	params->nr_ranges = NR_TEST_RANGES;
	sha256_digest(&ctx, SHA256_DIGEST_SIZE, params->sha256);
}

static void base_params(struct purgatory_params *params, bool serial)
{
	memset(params, 0, sizeof(*params));
	params->magic = PURGATORY_MAGIC;
	params->kernel_entry = GUEST_KERNEL;
	params->boot_params = GUEST_BOOT_PARAMS;
	if (serial) {
		params->flags = PURGATORY_SERIAL;
		params->serial_port = UART;
	}
}

/* What the loader does: the parameter block goes into its copy of the blob. */
static void put_params(struct vm *vm, uint64_t base, const struct purgatory_params *params)
{
	memcpy(vm->mem + base + PURGATORY_PARAMS_OFFSET, params, sizeof(*params));
}

/* The state the kernel's 64-bit boot protocol asks for, and nothing left over. */
static void check_handover(struct vm *vm, const char *scenario, uint64_t base)
{
	static const char *const names[] = { "rax", "rbx", "rcx", "rdx", "rdi", "rbp", "r8",
					     "r9",  "r10", "r11", "r12", "r13", "r14", "r15" };
	struct kvm_sregs s;
	struct kvm_regs r;
	const __u64 *const zero[] = { &r.rax, &r.rbx, &r.rcx, &r.rdx, &r.rdi, &r.rbp, &r.r8,
				      &r.r9,  &r.r10, &r.r11, &r.r12, &r.r13, &r.r14, &r.r15 };
	size_t i;

	if (ioctl(vm->vcpu, KVM_GET_REGS, &r) < 0 || ioctl(vm->vcpu, KVM_GET_SREGS, &s) < 0) {
		fail(scenario, "cannot read the vCPU state");
		return;
	}

	if (r.rip != GUEST_KERNEL + 1)
		fail(scenario, "stopped at 0x%llx, not in the capture kernel", r.rip);
	if (r.rsi != GUEST_BOOT_PARAMS)
		fail(scenario, "%%rsi is 0x%llx, not boot_params", r.rsi);
	if (r.rflags & RFLAGS_IF)
		fail(scenario, "interrupts were enabled");
	if (r.rsp < base || r.rsp > base + purgatory_memsz)
		fail(scenario, "%%rsp 0x%llx is outside purgatory's memsz", r.rsp);
	for (i = 0; i < sizeof(zero) / sizeof(zero[0]); i++) {
		if (*zero[i]) {
			fail(scenario, "%%%s is 0x%llx, not 0", names[i], *zero[i]);
			break;
		}
	}
	if (s.cs.selector != 0x10 || !s.cs.l || s.cs.base)
		fail(scenario, "CS is 0x%x (l=%u), not the flat 64-bit 0x10", s.cs.selector,
		     s.cs.l);
	if (s.ds.selector != 0x18 || s.es.selector != 0x18 || s.ss.selector != 0x18)
		fail(scenario, "DS/ES/SS are 0x%x/0x%x/0x%x, not 0x18", s.ds.selector,
		     s.es.selector, s.ss.selector);
	if (s.gdt.base < base || s.gdt.base >= base + purgatory_blob_size || s.gdt.limit < 0x1f)
		fail(scenario, "the GDT (0x%llx, limit 0x%x) is not purgatory's", s.gdt.base,
		     s.gdt.limit);
}

static void check_halted_in_purgatory(struct vm *vm, const char *scenario, uint64_t base)
{
	struct uart again = { 0 };
	struct kvm_regs r;

	if (ioctl(vm->vcpu, KVM_GET_REGS, &r) < 0 || r.rip < base ||
	    r.rip >= base + purgatory_blob_size)
		fail(scenario, "halted outside purgatory (rip 0x%llx)", r.rip);

	/* A wake-up from hlt (an NMI, say) must land in hlt again, never in the kernel. */
	if (run_guest(vm, &again, scenario) != STOP_HLT || again.io_exits)
		fail(scenario, "purgatory did not stay halted");
	if (ioctl(vm->vcpu, KVM_GET_REGS, &r) < 0 || r.rip < base ||
	    r.rip >= base + purgatory_blob_size)
		fail(scenario, "left purgatory after a second hlt (rip 0x%llx)", r.rip);
}

static bool printed(const struct uart *u, const char *text)
{
	return strstr(u->out, text) != NULL;
}

/* A fresh guest with purgatory at base and the test ranges in params. */
static int start_scenario(struct vm *vm, uint64_t base, const char *scenario, bool serial,
			  struct purgatory_params *params)
{
	base_params(params, serial);
	if (prepare(vm, base)) {
		fail(scenario, "cannot set up the guest");
		return -1;
	}
	fill_ranges(vm, params);
	return 0;
}

static void scenario_match(struct vm *vm, uint64_t base, bool serial)
{
	const char *scenario = serial ? "match, serial" : "match, quiet";
	struct purgatory_params params;
	struct uart u = { 0 };

	if (start_scenario(vm, base, scenario, serial, &params))
		return;
	put_params(vm, base, &params);

	switch (run_guest(vm, &u, scenario)) {
	case STOP_HLT:
		check_handover(vm, scenario, base);
		break;
	case STOP_SHUTDOWN:
		fail(scenario, "triple fault");
		return;
	default:
		return;
	}

	if (serial) {
		if (!printed(&u, "purgatory: digest ok"))
			fail(scenario, "no progress line on the serial port; got \"%s\"", u.out);
		if (u.divisor != 1 || u.lcr != 0x03)
			fail(scenario, "UART set to divisor %u, LCR 0x%x, not 115200 8n1",
			     u.divisor, u.lcr);
	} else if (u.io_exits) {
		fail(scenario, "touched I/O ports without PURGATORY_SERIAL");
	}
	printf("ok: %s at 0x%llx%s%s", scenario, (unsigned long long)base, serial ? ":\n" : "\n",
	       u.out);
}

static void scenario_mismatch(struct vm *vm, uint64_t base)
{
	const char *scenario = "mismatch";
	struct purgatory_params params;
	struct uart u = { 0 };

	if (start_scenario(vm, base, scenario, true, &params))
		return;
	put_params(vm, base, &params);
	/* One bit deep inside the first range, where only the digest can notice. */
	vm->mem[test_ranges[0].start + 0x1234] ^= 0x10;

	if (run_guest(vm, &u, scenario) != STOP_HLT) {
		fail(scenario, "did not halt");
		return;
	}
	check_halted_in_purgatory(vm, scenario, base);
	if (!printed(&u, "purgatory: SHA-256 digest mismatch, not booting the capture kernel"))
		fail(scenario, "no mismatch message; got \"%s\"", u.out);
	printf("ok: %s at 0x%llx:\n%s", scenario, (unsigned long long)base, u.out);
}

static void scenario_bad_params(struct vm *vm, uint64_t base, bool bad_magic)
{
	const char *scenario = bad_magic ? "bad magic" : "too many ranges";
	struct purgatory_params params;
	struct uart u = { 0 };

	if (start_scenario(vm, base, scenario, true, &params))
		return;
	if (bad_magic)
		params.magic = 0;
	else
		params.nr_ranges = PURGATORY_MAX_RANGES + 1;
	put_params(vm, base, &params);

	if (run_guest(vm, &u, scenario) != STOP_HLT) {
		fail(scenario, "did not halt");
		return;
	}
	check_halted_in_purgatory(vm, scenario, base);
	/* Without the magic, serial_port is not to be trusted: not a single I/O access. */
	if (bad_magic && u.io_exits)
		fail(scenario, "touched I/O ports although the magic was wrong");
	if (!bad_magic && !printed(&u, "not booting the capture kernel"))
		fail(scenario, "no message; got \"%s\"", u.out);
	printf("ok: %s at 0x%llx%s%s", scenario, (unsigned long long)base, u.len ? ":\n" : "\n",
	       u.out);
}

int main(void)
{
	struct vm vm;
	int ret;

	/* A purgatory stuck in a loop must fail the test rather than hang it. */
	alarm(60);

	ret = vm_open(&vm);
	if (ret)
		return ret;

	printf("purgatory blob: %zu bytes, memsz 0x%zx\n", purgatory_blob_size, purgatory_memsz);

	/* Two load addresses, one not 2 MiB aligned: the blob must not care where it runs. */
	scenario_match(&vm, 0x200000, true);
	scenario_match(&vm, 0x4d7000, false);
	scenario_mismatch(&vm, 0x4d7000);
	scenario_bad_params(&vm, 0x200000, true);
	scenario_bad_params(&vm, 0x200000, false);

	if (failures)
		fprintf(stderr, "%d check(s) failed\n", failures);
	return failures ? EXIT_FAILURE : EXIT_SUCCESS;
}
