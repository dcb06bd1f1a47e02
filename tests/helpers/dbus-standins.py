#!/usr/bin/python3
# Stand-ins for the session-bus services a sandbox must never reach, for
# tests/integ/t-keychain.sh:
#   org.example.Evil        Run(s)                 (any other service)
#   org.freedesktop.systemd1 Manager.StartTransientUnit(s)  (systemd-run --user)
# Each is its own bus connection (another peer).  A call that reaches one
# appends a line to MARKER on the host: the test asserts it stays absent for
# calls from inside the sandbox (and present for its own control call).
#   dbus-standins.py BUS_ADDRESS MARKER [SECONDS]
import sys

import dbus
import dbus.mainloop.glib
import dbus.service
from gi.repository import GLib

addr, marker = sys.argv[1], sys.argv[2]
seconds = int(sys.argv[3]) if len(sys.argv) > 3 else 120


def note(what):
    with open(marker, "a") as f:
        f.write(what + "\n")


class Evil(dbus.service.Object):
    @dbus.service.method("org.example.Evil", in_signature="s", out_signature="s")
    def Run(self, arg):
        note("evil:" + arg)
        return "ran"


class Systemd(dbus.service.Object):
    @dbus.service.method("org.freedesktop.systemd1.Manager", in_signature="s",
                         out_signature="s")
    def StartTransientUnit(self, arg):
        note("systemd:" + arg)
        return "started"


dbus.mainloop.glib.DBusGMainLoop(set_as_default=True)
keep = []
for name, path, cls in (("org.example.Evil", "/org/example/Evil", Evil),
                        ("org.freedesktop.systemd1", "/org/freedesktop/systemd1", Systemd)):
    conn = dbus.bus.BusConnection(addr)
    keep.append((conn, dbus.service.BusName(name, conn), cls(conn, path)))
loop = GLib.MainLoop()
GLib.timeout_add_seconds(seconds, loop.quit)
loop.run()
