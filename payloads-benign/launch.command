#!/bin/sh
# chainproof benign payload (rendered per run; {token} and {workdir} are filled in).
# It starts one child that creates an empty proof file inside the run
# directory, and does nothing else: no network, no persistence.
/usr/bin/touch "{workdir}/proof-{token}.txt"
exit 0
