"""nhtb-lab: the command line. Bad input prints file:line messages and exits 1, never a traceback.

`parser.py` is what argparse knows; a module per group of commands does the work (`config`: check,
render; `lab`: up, down, inspect, exec, ssh; `show`: show, log; `verify`: verify, diagnose, trace; `soak`: soak;
`change`: fault, spoke, change, rehearse); `output.py` is how anything is printed; `target.py` which lab
and node a command means."""
from __future__ import annotations

from ..errors import USER_ERRORS
from . import change, config, lab, show, soak, verify
from .output import err
from .parser import build_parser

COMMANDS = {
    "check": config.cmd_check, "render": config.cmd_render,
    "up": lab.cmd_up, "down": lab.cmd_down, "inspect": lab.cmd_inspect, "exec": lab.cmd_exec, "ssh": lab.cmd_ssh,
    "show": show.cmd_show, "log": show.cmd_log, "parse": show.cmd_parse,
    "verify": verify.cmd_verify, "diagnose": verify.cmd_diagnose, "trace": verify.cmd_trace,
    "fault": change.cmd_fault, "spoke": change.cmd_spoke, "rehearse": change.cmd_rehearse,
    "change": change.cmd_change, "soak": soak.cmd_soak,
}


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return COMMANDS[args.verb](args)
    except USER_ERRORS as e:
        err.print(str(e), markup=False, soft_wrap=True)
        return 1
    except KeyboardInterrupt:
        err.print("interrupted")
        return 130
    except OSError as e:  # the system refused (the lab VM's agent went away, a socket closed): said, not a traceback
        err.print(f"{type(e).__name__}: {e}", markup=False, soft_wrap=True)
        return 1
