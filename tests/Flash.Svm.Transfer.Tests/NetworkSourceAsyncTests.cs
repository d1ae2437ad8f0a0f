using System.Net;
using System.Net.Sockets;
using Flash.Svm.Packages;
using Flash.Svm.Transfer.Tests.Servers;

namespace Flash.Svm.Transfer.Tests;

/// <summary>
/// The network source's asynchronous path is real: <see cref="IAsyncStreamingSoftwareSource.StreamAsync"/> hands the
/// caller a task while the server has not answered yet (no thread of the caller is held for the transfer), and the
/// package reaches the sink whole; there is no synchronous twin (the synchronous member refuses), and the SVM refuses a
/// network source in a synchronous command (<see cref="SoftwareVersionManager.Upgrade(UpgradeCommand, IProgress{UpgradeProgress}?, CancellationToken)"/>). In-process HTTP server, no tools needed.
/// </summary>
public sealed class NetworkSourceAsyncTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task StreamAsync_returns_while_the_server_holds_its_answer_and_then_fills_the_sink()
    {
        var content = Content.Random(300_000, 77);
        using var answer = new ManualResetEventSlim();
        using var server = new HeldServer(content, answer);
        var (sources, owner) = NetworkSoftwareSource.CreateAll();
        using (owner)
        {
            var source = Assert.IsAssignableFrom<IAsyncStreamingSoftwareSource>(sources.Single(s => s.Kind == "http"));
            var sink = new BufferSink();

            var streaming = source.StreamAsync(new TransferParameters("http", server.Url), 1 << 20, sink, Ct);
            Assert.False(streaming.IsCompleted); // the server has not sent a byte: the transfer cannot be over
            answer.Set();
            await streaming;

            Assert.Equal(content, sink.Bytes.ToArray());
            Assert.Equal(content, await source.FetchAsync(new TransferParameters("http", server.Url), 1 << 20, Ct));
            // No synchronous bridge: the synchronous member refuses instead of blocking a thread on the transfer.
            Assert.Throws<NotSupportedException>(() => ((ISoftwareSource)source).Fetch(new TransferParameters("http", server.Url), 1 << 20, Ct));
            await Assert.ThrowsAsync<PackageRejectedException>(() => source.StreamAsync(new TransferParameters("http", server.Url), 1000, new BufferSink(), Ct));
        }
    }

    /// <summary>An HTTP server on a free loopback port that answers every request with the content once released.</summary>
    private sealed class HeldServer : IDisposable
    {
        private readonly HttpListener _listener = new();
        private readonly Thread _loop;

        public HeldServer(byte[] content, ManualResetEventSlim answer)
        {
            int port;
            using (var probe = new TcpListener(IPAddress.Loopback, 0))
            {
                probe.Start();
                port = ((IPEndPoint)probe.LocalEndpoint).Port;
            }

            Url = $"http://127.0.0.1:{port}/package.pkg";
            _listener.Prefixes.Add($"http://127.0.0.1:{port}/");
            _listener.Start();
            _loop = new Thread(() => Serve(content, answer)) { IsBackground = true };
            _loop.Start();
        }

        public string Url { get; }

        public void Dispose()
        {
            _listener.Stop();
            _loop.Join();
            _listener.Close();
        }

        private void Serve(byte[] content, ManualResetEventSlim answer)
        {
            try
            {
                while (_listener.IsListening)
                {
                    var context = _listener.GetContext();
                    answer.Wait();
                    context.Response.ContentLength64 = content.Length;
                    context.Response.OutputStream.Write(content);
                    context.Response.Close();
                }
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                // Stopped.
            }
        }
    }

    private sealed class BufferSink : IPackageSink
    {
        public MemoryStream Bytes { get; } = new();

        public long Length => Bytes.Length;

        public string? Validator { get; private set; }

        public void Begin(long totalLength, string? validator, bool fromZero)
        {
            if (fromZero)
            {
                Bytes.SetLength(0);
            }

            Validator = validator;
        }

        public void Append(ReadOnlySpan<byte> data) => Bytes.Write(data);
    }
}
