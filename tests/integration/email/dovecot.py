"""A real IMAP server for the tests: Dovecot (Debian's dovecot-imapd) started on a free
loopback port with a throwaway configuration, one mailbox user and plain-text login."""

from __future__ import annotations

import grp
import imaplib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

USER = "support@kefu-wallet.com.cn"
PASSWORD = "imap-test-password"


@dataclass(frozen=True)
class Dovecot:
    port: int
    user: str = USER
    password: str = PASSWORD

    @contextmanager
    def mailbox(self) -> Iterator[imaplib.IMAP4]:
        client = imaplib.IMAP4("127.0.0.1", self.port, timeout=10)
        client.login(self.user, self.password)
        try:
            client.select("INBOX")
            yield client
        finally:
            client.logout()

    def deliver(self, raw: bytes, *, seen: bool = False) -> None:
        with self.mailbox() as client:
            status, _ = client.append("INBOX", "(\\Seen)" if seen else None, None, raw)
            assert status == "OK"

    def unseen(self) -> int:
        with self.mailbox() as client:
            _, found = client.uid("SEARCH", "UNSEEN")
            return len((found[0] or b"").split())

    def mark_all_unseen(self) -> None:
        with self.mailbox() as client:
            client.uid("STORE", "1:*", "-FLAGS", "(\\Seen)")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _owners() -> tuple[str, str, str]:
    """(login user, internal user, mail user): Dovecot refuses to run its login and mail
    processes as root, so as root they are the package's own unprivileged users."""
    if os.geteuid() != 0:
        me = pwd.getpwuid(os.geteuid()).pw_name
        return me, me, me
    return "dovenull", "dovecot", "dovecot"


@contextmanager
def running() -> Iterator[Dovecot]:
    binary = shutil.which("dovecot") or "/usr/sbin/dovecot"
    root = Path(tempfile.mkdtemp(prefix="kefu-dovecot-"))
    root.chmod(0o755)  # the unprivileged mail user reaches its mail through here
    login_user, internal_user, mail_user = _owners()
    mail = pwd.getpwnam(mail_user)
    for name in ("run", "state", "mail", "home"):
        (root / name).mkdir()
    for name in ("mail", "home"):
        os.chown(root / name, mail.pw_uid, mail.pw_gid)
    port = _free_port()
    (root / "users").write_text(f"{USER}:{{PLAIN}}{PASSWORD}\n")
    (root / "dovecot.conf").write_text(
        f"""base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain
default_login_user = {login_user}
default_internal_user = {internal_user}
default_internal_group = {grp.getgrgid(pwd.getpwnam(internal_user).pw_gid).gr_name}
first_valid_uid = 0
mail_location = maildir:{root}/mail/%n
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/users
}}
userdb {{
  driver = static
  args = uid={mail.pw_uid} gid={mail.pw_gid} home={root}/home/%n
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
"""
    )
    process = subprocess.Popen(
        [binary, "-F", "-c", str(root / "dovecot.conf")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    try:
        server = Dovecot(port=port)
        deadline = time.monotonic() + 20
        while True:
            try:
                with server.mailbox():
                    break
            except (OSError, imaplib.IMAP4.error):
                if process.poll() is not None or time.monotonic() > deadline:
                    log = (root / "log").read_text() if (root / "log").exists() else ""
                    raise RuntimeError(f"dovecot did not start: {log[-2000:]}") from None
                time.sleep(0.1)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        shutil.rmtree(root, ignore_errors=True)
