// The tests drive Linux programs (socat, expect, node, vsftpd) from Debian packages, and link the transfer tests' vsftpd runner.
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
