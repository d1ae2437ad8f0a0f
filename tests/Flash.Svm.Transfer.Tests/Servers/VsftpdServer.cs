using System.Diagnostics;
using System.Globalization;

namespace Flash.Svm.Transfer.Tests.Servers;

/// <summary>
/// A real vsftpd serving a temporary directory to anonymous users on a loopback port (passive mode, rate-limited to
/// 1 MiB/s so that a test can stop it mid-transfer). Started and stopped by the tests.
/// </summary>
internal sealed class VsftpdServer : IDisposable
{
    private const UnixFileMode Readable = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
        | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute;

    private readonly string _binary;
    private readonly string _config;
    private Process? _process;

    private VsftpdServer(string binary, string root, bool tls)
    {
        _binary = binary;
        Root = root;
        Files = Path.Combine(root, "pub");
        var empty = Path.Combine(root, "empty");
        Directory.CreateDirectory(Files);
        Directory.CreateDirectory(empty);
        // After chroot vsftpd runs as the ftp user: the tree must be readable, and not writable, by it.
        File.SetUnixFileMode(root, Readable);
        File.SetUnixFileMode(Files, Readable);
        File.SetUnixFileMode(empty, Readable);
        Port = Tool.FreePort();
        var tlsLines = "";
        if (tls)
        {
            // Explicit FTPS for anonymous sessions too; no session-reuse demand on data connections.
            Ca = TestCa.Create(Path.Combine(root, "pki"));
            tlsLines = $"ssl_enable=YES\nallow_anon_ssl=YES\nforce_anon_logins_ssl=YES\nforce_anon_data_ssl=YES\n"
                + $"require_ssl_reuse=NO\nssl_ciphers=HIGH\nrsa_cert_file={Ca.ServerCertificate}\nrsa_private_key_file={Ca.ServerKey}\n";
        }

        _config = Path.Combine(root, "vsftpd.conf");
        File.WriteAllText(_config, string.Create(CultureInfo.InvariantCulture, $"""
            listen=YES
            listen_ipv6=NO
            listen_address=127.0.0.1
            listen_port={Port}
            background=NO
            anonymous_enable=YES
            no_anon_password=YES
            anon_root={Files}
            local_enable=NO
            write_enable=NO
            pasv_enable=YES
            pasv_address=127.0.0.1
            secure_chroot_dir={empty}
            seccomp_sandbox=NO
            xferlog_enable=NO
            anon_max_rate=1048576

            """) + tlsLines);
        File.SetUnixFileMode(_config, UnixFileMode.UserRead | UnixFileMode.UserWrite);
    }

    public string Root { get; }

    /// <summary>The CA of the server certificate (FTPS only).</summary>
    public TestCa? Ca { get; }

    public string Files { get; }

    public int Port { get; }

    /// <summary>Starts vsftpd, or returns null with the reason to skip.</summary>
    public static VsftpdServer? TryStart(out string skipReason, bool tls = false)
    {
        var binary = Tool.Find("/usr/sbin/vsftpd");
        skipReason = binary is null ? "vsftpd is not installed (apt-get install vsftpd; .ci/run does)" : !Tool.IsRoot ? "vsftpd tests need root" : "";
        if (binary is null || !Tool.IsRoot)
        {
            return null;
        }

        var server = new VsftpdServer(binary, Directory.CreateTempSubdirectory("flash-vsftpd-").FullName, tls);
        server.Start();
        return server;
    }

    /// <summary>Writes a file the server can read.</summary>
    public void Put(string name, byte[] content)
    {
        var path = Path.Combine(Files, name);
        File.WriteAllBytes(path, content);
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
    }

    public string Url(string name) => $"{(Ca is null ? "ftp" : "ftps")}://127.0.0.1:{Port}/{name}";

    public void Start()
    {
        _process = Process.Start(new ProcessStartInfo(_binary, _config) { UseShellExecute = false, RedirectStandardError = true, RedirectStandardOutput = true })!;
        Tool.WaitForPort(Port, _process, () => _process.HasExited ? _process.StandardError.ReadToEnd() + _process.StandardOutput.ReadToEnd() : "");
    }

    /// <summary>Stops vsftpd and its session processes at once: open transfers break.</summary>
    public void Kill()
    {
        if (_process is { HasExited: false })
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit(10_000);
        }

        _process?.Dispose();
        _process = null;
    }

    public void Dispose()
    {
        Kill();
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
