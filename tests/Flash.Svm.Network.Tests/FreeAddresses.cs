using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;

namespace Flash.Svm.Network.Tests;

/// <summary>
/// Addresses and ports a test run picks for itself, so that two runs at once (two worktrees, a CI retry) do not bind
/// the same endpoint or put the same subnet on two interfaces. Each is free when it is picked; the short race to the
/// bind that follows is what any ephemeral-port scheme accepts.
/// </summary>
internal static class FreeAddresses
{
    /// <summary>A loopback address in 127.64.0.0/10 with a UDP port nobody holds on it now.</summary>
    /// <returns>The endpoint.</returns>
    public static IPEndPoint LoopbackUdp()
    {
        for (int attempt = 0; ; attempt++)
        {
            var address = new IPAddress([127, (byte)Random.Shared.Next(64, 128), (byte)Random.Shared.Next(0, 256), (byte)Random.Shared.Next(2, 255)]);
            try
            {
                using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
                probe.Bind(new IPEndPoint(address, 0));
                return (IPEndPoint)probe.LocalEndPoint!;
            }
            catch (SocketException) when (attempt < 20)
            {
                // Taken or not routable here: try another.
            }
        }
    }

    /// <summary>A third octet N in [100, 250) such that no interface of this host has an address in 10.77.N.0/24.</summary>
    /// <returns>N.</returns>
    public static int TestSubnet()
    {
        var used = NetworkInterface.GetAllNetworkInterfaces()
            .SelectMany(i => i.GetIPProperties().UnicastAddresses)
            .Select(a => a.Address.GetAddressBytes())
            .Where(b => b.Length == 4 && b[0] == 10 && b[1] == 77)
            .Select(b => (int)b[2])
            .ToHashSet();
        var free = Enumerable.Range(100, 150).Where(n => !used.Contains(n)).ToArray();
        Assert.NotEmpty(free);
        return free[Random.Shared.Next(free.Length)];
    }
}
