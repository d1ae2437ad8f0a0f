using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using System.Text;

namespace Flash.Svm.Network.Dhcp;

/// <summary>What a module's DHCP client got: its address and where to boot from.</summary>
/// <param name="Address">The leased address (<c>yiaddr</c>).</param>
/// <param name="Server">The DHCP server (option 54).</param>
/// <param name="BootServer">The TFTP server (<c>siaddr</c>).</param>
/// <param name="BootFile">The boot file (<c>file</c>).</param>
/// <param name="SubnetMask">Option 1, if given.</param>
/// <param name="LeaseTime">Option 51.</param>
public sealed record DhcpClientLease(IPAddress Address, IPAddress Server, IPAddress BootServer, string BootFile, IPAddress? SubnetMask, TimeSpan LeaseTime);

/// <summary>
/// The DHCP client of a module's boot loader (DISCOVER, OFFER, REQUEST, ACK; RFC 2131 §3.1), used by simulated modules.
/// The caller provides the socket: bound to 0.0.0.0:68 with broadcast enabled, on the module's interface.
/// </summary>
public static class DhcpClient
{
    /// <summary>Takes a lease.</summary>
    /// <param name="socket">UDP socket bound to port 68 on the module's interface, broadcast enabled.</param>
    /// <param name="mac">The module's MAC address.</param>
    /// <param name="vendorClass">Option 60, or null.</param>
    /// <param name="serverPort">The server port (67).</param>
    /// <param name="timeout">Wait per message.</param>
    /// <param name="tries">Sends of each message.</param>
    /// <param name="cancellationToken">Cancels.</param>
    /// <returns>The lease, or null when no server answered or it refused (NAK).</returns>
    public static async Task<DhcpClientLease?> AcquireAsync(Socket socket, PhysicalAddress mac, string? vendorClass = null, int serverPort = 67, TimeSpan? timeout = null, int tries = 3, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(socket);
        ArgumentNullException.ThrowIfNull(mac);
        uint xid = (uint)Random.Shared.Next();
        var wait = timeout ?? TimeSpan.FromSeconds(1);
        var broadcast = new IPEndPoint(IPAddress.Broadcast, serverPort);
        DhcpPacket Message(DhcpMessageType type, params (byte, byte[])[] options)
        {
            var p = new DhcpPacket { Op = 1, TransactionId = xid, Flags = 0x8000, ClientHardware = [.. mac.GetAddressBytes(), .. new byte[10]] };
            p.Options.Add(new(DhcpOption.MessageType, [(byte)type]));
            if (vendorClass is not null)
            {
                p.Options.Add(new(DhcpOption.VendorClass, Encoding.ASCII.GetBytes(vendorClass)));
            }

            foreach (var (c, v) in options)
            {
                p.Options.Add(new(c, v));
            }

            p.Options.Add(new(DhcpOption.ParameterList, [DhcpOption.SubnetMask, DhcpOption.Router, DhcpOption.DnsServers, DhcpOption.HostName, DhcpOption.TftpServer, DhcpOption.BootFile]));
            return p;
        }

        var offer = await ExchangeAsync(socket, Message(DhcpMessageType.Discover), broadcast, xid, DhcpMessageType.Offer, wait, tries, cancellationToken).ConfigureAwait(false);
        if (offer is null || offer.AddressOption(DhcpOption.ServerId) is not { } server)
        {
            return null;
        }

        var ack = await ExchangeAsync(socket, Message(DhcpMessageType.Request, (DhcpOption.ServerId, server.GetAddressBytes()), (DhcpOption.RequestedAddress, offer.YourAddress.GetAddressBytes())),
            broadcast, xid, DhcpMessageType.Ack, wait, tries, cancellationToken).ConfigureAwait(false);
        if (ack is null)
        {
            return null;
        }

        var lt = ack.Option(DhcpOption.LeaseTime);
        var secs = lt is { Length: 4 } ? (uint)((lt[0] << 24) | (lt[1] << 16) | (lt[2] << 8) | lt[3]) : 0u;
        return new DhcpClientLease(ack.YourAddress, server, ack.ServerAddress, ack.BootFile, ack.AddressOption(DhcpOption.SubnetMask), TimeSpan.FromSeconds(secs));
    }

    private static async Task<DhcpPacket?> ExchangeAsync(Socket socket, DhcpPacket message, IPEndPoint to, uint xid, DhcpMessageType expected, TimeSpan wait, int tries, CancellationToken cancellationToken)
    {
        var send = new byte[1024];
        int n = message.Write(send);
        var buffer = new byte[1500];
        EndPoint any = new IPEndPoint(IPAddress.Any, 0);
        for (int t = 0; t < tries; t++)
        {
            await socket.SendToAsync(send.AsMemory(0, n), SocketFlags.None, to, cancellationToken).ConfigureAwait(false);
            using var timer = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timer.CancelAfter(wait);
            try
            {
                while (true)
                {
                    var r = await socket.ReceiveFromAsync(buffer, SocketFlags.None, any, timer.Token).ConfigureAwait(false);
                    if (DhcpPacket.TryParse(buffer.AsSpan(0, r.ReceivedBytes), out var reply) && reply!.Op == 2 && reply.TransactionId == xid)
                    {
                        if (reply.MessageType == expected)
                        {
                            return reply;
                        }

                        if (reply.MessageType == DhcpMessageType.Nak)
                        {
                            return null;
                        }
                    }
                }
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                // no answer: send again
            }
        }

        return null;
    }
}
