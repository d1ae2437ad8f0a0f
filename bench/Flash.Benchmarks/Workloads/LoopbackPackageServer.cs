using System.Net;
using System.Net.Sockets;

namespace Flash.Benchmarks.Workloads;

/// <summary>
/// The in-process HTTP server of the network benchmarks (<c>transfer</c>, <c>stream-upgrade</c>): an
/// <see cref="HttpListener"/> on a free loopback port that serves fixed files whole (404 for any other path), written
/// in 1 MiB slices so that the server side holds no copy of its own. Disposing it stops the listener and its loop.
/// </summary>
internal sealed class LoopbackPackageServer : IDisposable
{
    private const int Slice = 1 << 20;

    private readonly HttpListener _listener = new();
    private readonly IReadOnlyDictionary<string, ArraySegment<byte>> _files;
    private readonly Thread _loop;

    /// <summary>Starts serving.</summary>
    /// <param name="files">Absolute request path (<c>/name.pkg</c>) → content.</param>
    public LoopbackPackageServer(IReadOnlyDictionary<string, ArraySegment<byte>> files)
    {
        _files = files;
        Port = FreePort();
        _listener.Prefixes.Add($"http://127.0.0.1:{Port}/");
        _listener.Start();
        // A server loop of its own (blocking accepts), not a pool thread the measured work competes for.
        _loop = new Thread(Serve) { IsBackground = true, Name = "bench-http" };
        _loop.Start();
    }

    /// <summary>The port it listens on.</summary>
    public int Port { get; }

    /// <summary>The URL of a served file.</summary>
    /// <param name="name">File name without the leading slash.</param>
    /// <returns>The URL.</returns>
    public string Url(string name) => $"http://127.0.0.1:{Port}/{name}";

    /// <inheritdoc />
    public void Dispose()
    {
        _listener.Stop();
        _loop.Join();
        _listener.Close();
    }

    private static int FreePort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }

    private void Serve()
    {
        try
        {
            while (_listener.IsListening)
            {
                var context = _listener.GetContext();
                if (!_files.TryGetValue(context.Request.Url?.AbsolutePath ?? "", out var content))
                {
                    context.Response.StatusCode = 404;
                    context.Response.Close();
                    continue;
                }

                context.Response.ContentLength64 = content.Count;
                context.Response.ContentType = "application/octet-stream";
                for (int offset = 0; offset < content.Count; offset += Slice)
                {
                    // The array overload: the response stream's span overload would copy through a pooled buffer.
                    context.Response.OutputStream.Write(content.Array!, content.Offset + offset, Math.Min(Slice, content.Count - offset));
                }

                context.Response.Close();
            }
        }
        catch (HttpListenerException)
        {
            // Stopped.
        }
        catch (ObjectDisposedException)
        {
            // Stopped.
        }
        catch (InvalidOperationException)
        {
            // Stopped between IsListening and GetContext.
        }
    }
}
