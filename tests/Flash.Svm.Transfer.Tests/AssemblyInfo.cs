// The tests start Linux server binaries (nginx, vsftpd, sshd) from Debian packages.
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
