# SPDX-License-Identifier: GPL-2.0-or-later
# kdump integration: the udev rule and the reload helper it runs.
udevrulesdir = $(prefix)/lib/udev/rules.d
udevrules_DATA = kdump/98-kexec-hp-kdump.rules
pkglibexec_SCRIPTS = kdump/kdump-reload
kdumpconfdir = $(sysconfdir)/kexec-hp
dist_kdumpconf_DATA = kdump/kdump.conf
EXTRA_DIST += kdump/98-kexec-hp-kdump.rules.in kdump/kdump-reload.in
CLEANFILES += kdump/98-kexec-hp-kdump.rules kdump/kdump-reload

kdump_subst = sed -e 's|@pkglibexecdir[@]|$(pkglibexecdir)|g' \
	-e 's|@sysconfdir[@]|$(sysconfdir)|g' -e 's|@sbindir[@]|$(sbindir)|g'

kdump/98-kexec-hp-kdump.rules: $(srcdir)/kdump/98-kexec-hp-kdump.rules.in Makefile
	$(AM_V_GEN)$(MKDIR_P) kdump && $(kdump_subst) $< > $@

kdump/kdump-reload: $(srcdir)/kdump/kdump-reload.in Makefile
	$(AM_V_GEN)$(MKDIR_P) kdump && $(kdump_subst) $< > $@ && chmod +x $@
