using System.Diagnostics;
using System.Globalization;

namespace Flash.Svm.Transfer.Tests.Servers;

/// <summary>
/// A real nginx serving a temporary directory over HTTPS on a loopback port, with a certificate from a
/// <see cref="TestCa"/>: <c>/files/</c> at full speed, <c>/slow/</c> rate-limited, <c>/private/</c> behind basic
/// authentication. Started and stopped by the tests.
/// </summary>
internal sealed class NginxServer : IDisposable
{
    public const string User = "operator";
    public const string Password = "s3cret-Pa55";

    private readonly string _binary;
    private readonly string _config;
    private Process? _process;

    private NginxServer(string binary, string root)
    {
        _binary = binary;
        Root = root;
        Files = Path.Combine(root, "www");
        Directory.CreateDirectory(Files);
        Ca = TestCa.Create(Path.Combine(root, "pki"));
        Port = Tool.FreePort();
        var htpasswd = Tool.Run("openssl", $"passwd -apr1 {Password}").Trim();
        File.WriteAllText(Path.Combine(root, "htpasswd"), $"{User}:{htpasswd}\n");
        _config = Path.Combine(root, "nginx.conf");
        File.WriteAllText(_config, string.Create(CultureInfo.InvariantCulture, $$"""
            user root;
            worker_processes 1;
            daemon off;
            pid {{root}}/nginx.pid;
            error_log {{root}}/error.log warn;
            events { worker_connections 64; }
            http {
              access_log {{root}}/access.log;
              client_body_temp_path {{root}}/tmp-body;
              proxy_temp_path {{root}}/tmp-proxy;
              fastcgi_temp_path {{root}}/tmp-fastcgi;
              uwsgi_temp_path {{root}}/tmp-uwsgi;
              scgi_temp_path {{root}}/tmp-scgi;
              default_type application/octet-stream;
              server {
                listen 127.0.0.1:{{Port}} ssl;
                ssl_certificate {{Ca.ServerCertificate}};
                ssl_certificate_key {{Ca.ServerKey}};
                root {{Files}};
                location /files/ { alias {{Files}}/; }
                location /slow/ { alias {{Files}}/; limit_rate 256k; }
                location /private/ { alias {{Files}}/; auth_basic "flash"; auth_basic_user_file {{root}}/htpasswd; }
              }
            }
            """));
    }

    public string Root { get; }

    public string Files { get; }

    public int Port { get; }

    public TestCa Ca { get; }

    /// <summary>Starts nginx, or returns null with the reason to skip.</summary>
    public static NginxServer? TryStart(out string skipReason)
    {
        var binary = Tool.Find("/usr/sbin/nginx");
        skipReason = binary is null ? "nginx is not installed (apt-get install nginx-light; .ci/run does)" : !Tool.IsRoot ? "nginx tests need root" : "";
        if (binary is null || !Tool.IsRoot)
        {
            return null;
        }

        var server = new NginxServer(binary, Directory.CreateTempSubdirectory("flash-nginx-").FullName);
        server.Start();
        return server;
    }

    public Uri Url(string location, string name) => new($"https://127.0.0.1:{Port}/{location}/{name}");

    public void Start()
    {
        _process = Process.Start(new ProcessStartInfo(_binary, $"-c {_config} -p {Root}") { UseShellExecute = false, RedirectStandardError = true })!;
        Tool.WaitForPort(Port, _process, () => File.Exists(Path.Combine(Root, "error.log")) ? File.ReadAllText(Path.Combine(Root, "error.log")) : "");
    }

    /// <summary>Stops nginx at once (master and worker): open connections break mid-transfer.</summary>
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

    public string AccessLog => File.ReadAllText(Path.Combine(Root, "access.log"));

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
