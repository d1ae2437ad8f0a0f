using System.Diagnostics;
using System.Globalization;

namespace Flash.Svm.Transfer.Tests.Servers;

/// <summary>
/// A real OpenSSH sshd on a loopback port with its own config and host key, offering only the internal SFTP server,
/// with public-key login for root from a key made for the test. Started and stopped by the tests.
/// </summary>
internal sealed class SshdServer : IDisposable
{
    private readonly string _binary;
    private readonly string _config;
    private Process? _process;

    private SshdServer(string binary, string root)
    {
        _binary = binary;
        Root = root;
        Files = Path.Combine(root, "files");
        Directory.CreateDirectory(Files);
        Directory.CreateDirectory("/run/sshd"); // privilege separation directory sshd insists on
        Port = Tool.FreePort();
        Tool.Run("ssh-keygen", "-q -t ed25519 -N \"\" -f host_key", root);
        Tool.Run("ssh-keygen", "-q -t ed25519 -N \"\" -f other_host_key", root);
        Tool.Run("ssh-keygen", "-q -t ed25519 -N \"\" -f client_key", root);
        File.Copy(Path.Combine(root, "client_key.pub"), Path.Combine(root, "authorized_keys"));
        HostKeyPin = Fingerprint("host_key.pub");
        OtherHostKeyPin = Fingerprint("other_host_key.pub");
        ClientKey = File.ReadAllText(Path.Combine(root, "client_key"));
        _config = Path.Combine(root, "sshd_config");
        File.WriteAllText(_config, string.Create(CultureInfo.InvariantCulture, $"""
            ListenAddress 127.0.0.1
            Port {Port}
            HostKey {root}/host_key
            PidFile {root}/sshd.pid
            AuthorizedKeysFile {root}/authorized_keys
            StrictModes no
            PermitRootLogin prohibit-password
            PubkeyAuthentication yes
            PasswordAuthentication yes
            KbdInteractiveAuthentication no
            UsePAM no
            Subsystem sftp internal-sftp
            ForceCommand internal-sftp
            AllowTcpForwarding no
            X11Forwarding no
            LogLevel ERROR
            """));
    }

    public string Root { get; }

    public string Files { get; }

    public int Port { get; }

    /// <summary>The SHA-256 fingerprint of the server's host key, as <c>ssh-keygen -l</c> prints it.</summary>
    public string HostKeyPin { get; }

    /// <summary>The fingerprint of a key the server does not have.</summary>
    public string OtherHostKeyPin { get; }

    /// <summary>The private key root logs in with.</summary>
    public string ClientKey { get; }

    public static SshdServer? TryStart(out string skipReason)
    {
        var binary = Tool.Find("/usr/sbin/sshd");
        var keygen = Tool.Find("/usr/bin/ssh-keygen");
        skipReason = binary is null || keygen is null ? "OpenSSH is not installed (apt-get install openssh-server; .ci/run does)" : !Tool.IsRoot ? "sshd tests need root" : "";
        if (binary is null || keygen is null || !Tool.IsRoot)
        {
            return null;
        }

        var server = new SshdServer(binary, Directory.CreateTempSubdirectory("flash-sshd-").FullName);
        server.Start();
        return server;
    }

    public string Url(string name) => $"sftp://127.0.0.1:{Port}{Files}/{name}";

    public void Start()
    {
        _process = Process.Start(new ProcessStartInfo(_binary, $"-D -e -f {_config}") { UseShellExecute = false, RedirectStandardError = true })!;
        Tool.WaitForPort(Port, _process, () => _process.HasExited ? _process.StandardError.ReadToEnd() : "");
    }

    /// <summary>Stops sshd and its session processes at once.</summary>
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

    private string Fingerprint(string publicKey) =>
        Tool.Run("ssh-keygen", $"-l -E sha256 -f {publicKey}", Root).Split(' ')[1];
}
