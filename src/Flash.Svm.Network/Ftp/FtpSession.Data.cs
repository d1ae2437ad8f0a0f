using System.Buffers;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Flash.Svm.Network.Components;
using Microsoft.Extensions.Logging;

namespace Flash.Svm.Network.Ftp;

/// <summary>Passive data connections, listings, SIZE/MDTM and RETR.</summary>
internal sealed partial class FtpSession
{
    private const int Chunk = 64 * 1024;

    private async Task PassiveAsync(bool extended, string arg, CancellationToken stop)
    {
        if (extended && arg.Equals("ALL", StringComparison.OrdinalIgnoreCase))
        {
            _epsvAll = true;
            await ReplyAsync(200, "EPSV ALL accepted.", stop).ConfigureAwait(false);
            return;
        }

        if (!extended && _epsvAll)
        {
            await ReplyAsync(503, "EPSV ALL was sent; use EPSV.", stop).ConfigureAwait(false);
            return;
        }

        _passive?.Stop();
        var local = ((IPEndPoint)_client.Client.LocalEndPoint!).Address;
        if (local.IsIPv4MappedToIPv6)
        {
            local = local.MapToIPv4();
        }

        _passive = new TcpListener(local, 0);
        _passive.Start(1);
        int port = ((IPEndPoint)_passive.LocalEndpoint).Port;
        if (extended)
        {
            await ReplyAsync(229, $"Entering Extended Passive Mode (|||{port}|)", stop).ConfigureAwait(false);
        }
        else
        {
            var a = local.GetAddressBytes();
            await ReplyAsync(227, $"Entering Passive Mode ({a[0]},{a[1]},{a[2]},{a[3]},{port >> 8},{port & 255})", stop).ConfigureAwait(false);
        }
    }

    /// <summary>Accepts the data connection on the passive listener, only from the control connection's host.</summary>
    private async Task<TcpClient?> OpenDataAsync(CancellationToken stop)
    {
        var listener = _passive;
        _passive = null;
        if (listener is null)
        {
            await ReplyAsync(425, "Use PASV or EPSV first.", stop).ConfigureAwait(false);
            return null;
        }

        try
        {
            using var wait = CancellationTokenSource.CreateLinkedTokenSource(stop);
            wait.CancelAfter(_server.Options.DataTimeout);
            while (true)
            {
                var c = await listener.AcceptTcpClientAsync(wait.Token).ConfigureAwait(false);
                if (((IPEndPoint)c.Client.RemoteEndPoint!).Address.Equals(_remote.Address))
                {
                    return c;
                }

                c.Dispose(); // a data connection from another host (port theft): refused
            }
        }
        catch (OperationCanceledException) when (!stop.IsCancellationRequested)
        {
            await ReplyAsync(425, "No data connection.", stop).ConfigureAwait(false);
            return null;
        }
        finally
        {
            listener.Stop();
        }
    }

    private async Task ListAsync(bool namesOnly, CancellationToken stop)
    {
        var (sgc, visible) = await ViewAsync(stop).ConfigureAwait(false);
        var when = _server.TimeOf(sgc.Release);
        var sb = new StringBuilder();
        foreach (var c in visible)
        {
            sb.Append(namesOnly
                ? c.Name
                : string.Create(CultureInfo.InvariantCulture, $"-r--r--r--   1 smp      smp      {c.Size,12} {when:MMM dd HH:mm} {c.Name}"));
            sb.Append("\r\n");
        }

        using var data = await OpenDataAsync(stop).ConfigureAwait(false);
        if (data is null)
        {
            return;
        }

        await ReplyAsync(150, "Here comes the listing.", stop).ConfigureAwait(false);
        await data.GetStream().WriteAsync(Encoding.ASCII.GetBytes(sb.ToString()), stop).ConfigureAwait(false);
        data.Close();
        await ReplyAsync(226, "Listing sent.", stop).ConfigureAwait(false);
    }

    private async Task FileInfoAsync(string verb, string name, CancellationToken stop)
    {
        var c = await ResolveAsync(name, stop).ConfigureAwait(false);
        if (c is null)
        {
            return;
        }

        if (verb == "SIZE")
        {
            await ReplyAsync(213, c.Size.ToString(CultureInfo.InvariantCulture), stop).ConfigureAwait(false);
        }
        else
        {
            var sgc = await _server.Store.SgcAsync(stop).ConfigureAwait(false);
            await ReplyAsync(213, _server.TimeOf(sgc.Release).ToString("yyyyMMddHHmmss", CultureInfo.InvariantCulture), stop).ConfigureAwait(false);
        }
    }

    private async Task RetrieveAsync(string name, CancellationToken stop)
    {
        long offset = _restart;
        _restart = 0;
        var c = await ResolveAsync(name, stop).ConfigureAwait(false);
        if (c is null)
        {
            _passive?.Stop();
            _passive = null;
            return;
        }

        if (offset > c.Size)
        {
            await ReplyAsync(554, "Restart offset beyond the end of the file.", stop).ConfigureAwait(false);
            return;
        }

        using var data = await OpenDataAsync(stop).ConfigureAwait(false);
        if (data is null)
        {
            return;
        }

        await ReplyAsync(150, $"Opening BINARY mode data connection for {c.Name} ({c.Size - offset} bytes).", stop).ConfigureAwait(false);
        var stream = data.GetStream();
        var buffer = ArrayPool<byte>.Shared.Rent(Chunk);
        try
        {
            using var digest = new ComponentDigest(c);
            long at = 0;
            while (true)
            {
                int want = (int)Math.Min(Chunk, c.Size - at);
                int got = want == 0 ? 0 : await _server.Store.ReadAsync(c, at, buffer.AsMemory(0, want), stop).ConfigureAwait(false);
                digest.Feed(at, buffer.AsSpan(0, got));
                bool last = at + got >= c.Size || got < want;
                if (got < want || (last && !digest.Complete()))
                {
                    // The last chunk is held back until the digest matched: the client never completes a bad image.
                    _server.Log.LogError(NetworkEvents.DigestMismatch, "FTP: {File} does not match its SGC digest; transfer aborted, healing from the mirror", c.Name);
                    data.Client.LingerState = new LingerOption(true, 0);
                    data.Close();
                    await ReplyAsync(451, "Component failed its digest check on the node; retry.", stop).ConfigureAwait(false);
                    await _server.Store.HealAsync(c, stop).ConfigureAwait(false);
                    return;
                }

                long end = at + got;
                if (end > offset)
                {
                    int skip = (int)Math.Max(0, offset - at);
                    await stream.WriteAsync(buffer.AsMemory(skip, got - skip), stop).ConfigureAwait(false);
                }

                at = end;
                if (last)
                {
                    break;
                }
            }

            data.Close();
            _server.CountSent();
            _server.Log.LogInformation(NetworkEvents.FtpTransfer, "FTP: sent {File} from offset {Offset} to {User} at {Client}", c.Name, offset, _user, _remote);
            await ReplyAsync(226, "Transfer complete.", stop).ConfigureAwait(false);
        }
        catch (IOException ex) when (!stop.IsCancellationRequested)
        {
            _server.Log.LogWarning(NetworkEvents.FtpTransfer, "FTP: transfer of {File} to {Client} failed: {Error}", c.Name, _remote, ex.Message);
            await ReplyAsync(426, "Transfer aborted.", stop).ConfigureAwait(false);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
