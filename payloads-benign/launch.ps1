# chainproof benign payload (rendered per run; {token} and {workdir} are filled in).
# It starts one child that writes the run token into a proof file inside the
# run directory, and does nothing else: no network, no persistence.
& "$env:SystemRoot\System32\cmd.exe" /c "echo {token}> `"{workdir}\proof-{token}.txt`""
exit 0
