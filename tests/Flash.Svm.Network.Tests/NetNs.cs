using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace Flash.Svm.Network.Tests;

/// <summary>
/// A network namespace with one end of a veth pair in it; the other end stays in the test's namespace with an address
/// of a private test subnet. Only addresses inside this pair are used. Needs root; removed on dispose.
/// </summary>
internal sealed class NetNs : IAsyncDisposable
{
    private static int _next;

    private NetNs(string name, string host, string client, string hostAddress, string mac)
    {
        Name = name;
        HostInterface = host;
        ClientInterface = client;
        HostAddress = hostAddress;
        Mac = mac;
    }

    public string Name { get; }

    public string HostInterface { get; }

    public string ClientInterface { get; }

    public string HostAddress { get; }

    public string Mac { get; }

    public static async Task<NetNs> CreateAsync(int subnet)
    {
        if (!Tools.IsRoot)
        {
            Assert.Skip("network namespaces need root (CI runs as root)");
        }

        var ip = ExternalTools.Require("ip");
        int n = Interlocked.Increment(ref _next);
        string tag = $"{Environment.ProcessId % 10000}{n}";
        var ns = new NetNs($"flnet{tag}", $"flh{tag}", $"flc{tag}", $"10.77.{subnet}.1", $"02:00:00:77:{subnet:x2}:{n % 256:x2}");
        await ns.RunAsync(ip, "netns", "add", ns.Name);
        await ns.RunAsync(ip, "link", "add", ns.HostInterface, "type", "veth", "peer", "name", ns.ClientInterface);
        await ns.RunAsync(ip, "link", "set", ns.ClientInterface, "netns", ns.Name);
        await ns.RunAsync(ip, "netns", "exec", ns.Name, ip, "link", "set", ns.ClientInterface, "address", ns.Mac);
        await ns.RunAsync(ip, "netns", "exec", ns.Name, ip, "link", "set", ns.ClientInterface, "up");
        await ns.RunAsync(ip, "netns", "exec", ns.Name, ip, "link", "set", "lo", "up");
        await ns.RunAsync(ip, "addr", "add", ns.HostAddress + "/24", "dev", ns.HostInterface);
        await ns.RunAsync(ip, "link", "set", ns.HostInterface, "up");
        return ns;
    }

    /// <summary>
    /// A UDP socket that lives in the namespace: created on a thread that entered it with setns(2); the socket keeps
    /// its namespace when used from any thread afterwards.
    /// </summary>
    public Socket UdpSocket()
    {
        Socket? socket = null;
        Exception? error = null;
        var t = new Thread(() =>
        {
            try
            {
                using var ns = File.OpenHandle($"/var/run/netns/{Name}");
                const int CloneNewNet = 0x40000000;
                if (setns((int)ns.DangerousGetHandle(), CloneNewNet) != 0)
                {
                    throw new IOException($"setns failed: errno {Marshal.GetLastPInvokeError()}");
                }

                socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
            }
            catch (Exception ex)
            {
                error = ex;
            }
        });
        t.Start();
        t.Join();
        return socket ?? throw new IOException("could not create a socket in the namespace", error);
    }

    [DllImport("libc", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern int setns(int fd, int nstype);

    /// <summary>Runs a program inside the namespace.</summary>
    public Task<(int Exit, string Output)> ExecAsync(TimeSpan timeout, string program, params string[] args) =>
        ExternalTools.RunAsync("/usr/sbin/ip", new[] { "netns", "exec", Name, program }.Concat(args), timeout);

    public async ValueTask DisposeAsync()
    {
        await ExternalTools.RunAsync("/usr/sbin/ip", ["link", "del", HostInterface], TimeSpan.FromSeconds(10));
        await ExternalTools.RunAsync("/usr/sbin/ip", ["netns", "del", Name], TimeSpan.FromSeconds(10));
    }

    private async Task RunAsync(string program, params string[] args)
    {
        var (exit, output) = await ExternalTools.RunAsync(program, args, TimeSpan.FromSeconds(10));
        if (exit != 0)
        {
            await DisposeAsync();
            Assert.Fail($"{program} {string.Join(' ', args)}: {output}");
        }
    }
}
