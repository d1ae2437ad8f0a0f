using System.Buffers.Binary;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Flash.Svm.Network.Tftp;

/// <summary>Settings of a <see cref="TftpClient"/> fetch.</summary>
public sealed class TftpClientOptions
{
    /// <summary>Block size to ask for (null: RFC 1350's 512 bytes, no option sent).</summary>
    public int? BlockSize { get; init; }

    /// <summary>Window size to ask for (null: 1, no option sent).</summary>
    public int? WindowSize { get; init; }

    /// <summary>Ask for the transfer size (tsize 0).</summary>
    public bool AskSize { get; init; }

    /// <summary>How long to wait for a packet before re-sending the last request or ACK.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Re-sends before giving up.</summary>
    public int Retries { get; init; } = 5;

    /// <summary>Local address to send from (a module's own address); null: any.</summary>
    public IPAddress? LocalAddress { get; init; }

    /// <summary>Creates the client's UDP socket (e.g. inside a module's network namespace); null: a plain IPv4 UDP socket.</summary>
    public Func<Socket>? SocketFactory { get; init; }
}

/// <summary>What a fetch ended with.</summary>
/// <param name="Bytes">Bytes received.</param>
/// <param name="Error">The server's error code when it refused or aborted, else null.</param>
/// <param name="Message">The server's error message, or a local reason (timeout).</param>
/// <param name="TransferSize">The tsize the server announced, if asked and given.</param>
public sealed record TftpFetchResult(long Bytes, TftpError? Error, string? Message, long? TransferSize)
{
    /// <summary>True when the whole file arrived.</summary>
    public bool Ok => Error is null && Message is null;
}

/// <summary>
/// A TFTP read client (RFC 1350 with blksize, tsize and windowsize options): what a processor module's boot loader
/// does, used by the simulated module and the boot-storm benchmark. One fetch per call; the data goes to a stream.
/// </summary>
public static class TftpClient
{
    /// <summary>Fetches a file.</summary>
    /// <param name="server">The server's request endpoint.</param>
    /// <param name="file">File name.</param>
    /// <param name="destination">Where the data goes.</param>
    /// <param name="options">Options.</param>
    /// <param name="cancellationToken">Cancels the fetch.</param>
    /// <returns>The result.</returns>
    public static async Task<TftpFetchResult> FetchAsync(IPEndPoint server, string file, Stream destination, TftpClientOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(server);
        ArgumentNullException.ThrowIfNull(file);
        ArgumentNullException.ThrowIfNull(destination);
        options ??= new TftpClientOptions();
        using var socket = options.SocketFactory?.Invoke() ?? new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        socket.Bind(new IPEndPoint(options.LocalAddress ?? IPAddress.Any, 0));
        int block = options.BlockSize ?? 512;
        int window = options.WindowSize ?? 1;
        var request = BuildRequest(file, options);
        var buffer = new byte[65536];
        var ack = new byte[4];
        EndPoint any = new IPEndPoint(IPAddress.Any, 0);
        IPEndPoint? peer = null;
        long expected = 1, bytes = 0;
        long? tsize = null;
        int inWindow = 0, tries = 0;
        ReadOnlyMemory<byte> last = request;
        await socket.SendToAsync(request, SocketFlags.None, server, cancellationToken).ConfigureAwait(false);
        while (true)
        {
            SocketReceiveFromResult r;
            using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
            {
                timeout.CancelAfter(options.Timeout);
                try
                {
                    r = await socket.ReceiveFromAsync(buffer, SocketFlags.None, any, timeout.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    if (++tries > options.Retries)
                    {
                        return new TftpFetchResult(bytes, null, "timed out", tsize);
                    }

                    await socket.SendToAsync(last, SocketFlags.None, peer ?? server, cancellationToken).ConfigureAwait(false);
                    continue;
                }
            }

            var from = (IPEndPoint)r.RemoteEndPoint;
            if (peer is not null && !from.Equals(peer))
            {
                continue;
            }

            var packet = buffer.AsSpan(0, r.ReceivedBytes);
            if (TftpPacket.TryParseError(packet, out var code, out var message))
            {
                return new TftpFetchResult(bytes, code, message, tsize);
            }

            var op = TftpPacket.OpcodeOf(packet);
            if (op == TftpOpcode.OptionAck && peer is null)
            {
                peer = from;
                foreach (var (k, v) in ParseOptions(packet[2..]))
                {
                    long n = long.Parse(v, CultureInfo.InvariantCulture);
                    switch (k)
                    {
                        case "blksize": block = (int)n; break;
                        case "windowsize": window = (int)n; break;
                        case "tsize": tsize = n; break;
                        default: break;
                    }
                }

                TftpPacket.WriteAck(ack, 0);
                last = ack;
                tries = 0;
                await socket.SendToAsync(ack, SocketFlags.None, peer, cancellationToken).ConfigureAwait(false);
                continue;
            }

            if (op != TftpOpcode.Data || packet.Length < 4)
            {
                continue;
            }

            if (peer is null)
            {
                // No OACK: the server ignored our options; RFC 1350 defaults apply.
                peer = from;
                block = 512;
                window = 1;
            }

            ushort number = BinaryPrimitives.ReadUInt16BigEndian(packet[2..]);
            if (number == (ushort)expected)
            {
                var data = packet[4..];
                destination.Write(data);
                bytes += data.Length;
                tries = 0;
                bool end = data.Length < block;
                if (++inWindow >= window || end)
                {
                    TftpPacket.WriteAck(ack, number);
                    last = ack;
                    inWindow = 0;
                    await socket.SendToAsync(ack, SocketFlags.None, peer, cancellationToken).ConfigureAwait(false);
                }

                expected++;
                if (end)
                {
                    return new TftpFetchResult(bytes, null, null, tsize);
                }
            }
            else if (number != (ushort)(expected - 1) || inWindow == 0)
            {
                // Out of order inside a window: ACK what we have so the server resends from there (RFC 7440).
                TftpPacket.WriteAck(ack, (ushort)(expected - 1));
                last = ack;
                inWindow = 0;
                await socket.SendToAsync(ack, SocketFlags.None, peer, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private static byte[] BuildRequest(string file, TftpClientOptions options)
    {
        var fields = new List<string> { file, "octet" };
        if (options.BlockSize is { } b)
        {
            fields.AddRange(["blksize", b.ToString(CultureInfo.InvariantCulture)]);
        }

        if (options.WindowSize is { } w)
        {
            fields.AddRange(["windowsize", w.ToString(CultureInfo.InvariantCulture)]);
        }

        if (options.AskSize)
        {
            fields.AddRange(["tsize", "0"]);
        }

        var ms = new MemoryStream();
        ms.Write([0, (byte)TftpOpcode.ReadRequest]);
        foreach (var f in fields)
        {
            ms.Write(Encoding.ASCII.GetBytes(f));
            ms.WriteByte(0);
        }

        return ms.ToArray();
    }

    private static List<KeyValuePair<string, string>> ParseOptions(ReadOnlySpan<byte> body)
    {
        var parts = Encoding.ASCII.GetString(body).Split('\0');
        var list = new List<KeyValuePair<string, string>>();
        for (int i = 0; i + 1 < parts.Length; i += 2)
        {
            list.Add(new(parts[i].ToLowerInvariant(), parts[i + 1]));
        }

        return list;
    }
}
