using Flash.Drivers;
using Flash.Drivers.Simulation;
using Flash.Ffs.Mirror;
using Flash.Svm.Transfer.Tests.Servers;

namespace Flash.Svm.Transfer.Tests;

/// <summary>Downloads staged in the alternate context of a simulated pair: resume after a node power cut.</summary>
public sealed class StagingSinkTests(NginxFixture fixture) : IClassFixture<NginxFixture>
{
    private static readonly CancellationToken Ct = TestContext.Current.CancellationToken;
    private static readonly FlashGeometry Geometry = new(2048, 64, 16, 128);

    private NginxServer Server
    {
        get
        {
            if (fixture.Server is null)
            {
                Assert.Skip(fixture.SkipReason);
            }

            return fixture.Server;
        }
    }

    [Fact]
    public void StateRecord_RoundTripsAndRejectsDamage()
    {
        var record = AlternateStagingSink.FormatState(1000, 512, 256 * 1024, "\"abc\"");
        Assert.True(AlternateStagingSink.TryParseState(record, out var state));
        Assert.Equal((1000L, 512L, 256 * 1024, (string?)"\"abc\""), state);

        for (var i = 0; i < record.Length; i++)
        {
            var bad = (byte[])record.Clone();
            bad[i] ^= 0x40;
            Assert.False(AlternateStagingSink.TryParseState(bad, out _));
        }

        Assert.False(AlternateStagingSink.TryParseState(record.AsSpan(0, record.Length - 1), out _));
    }

    [Fact]
    public async Task PowerCutMidDownload_ResumesFromTheLastDurableChunk()
    {
        var content = Content.Random(1 << 20, 41);
        File.WriteAllBytes(Path.Combine(Server.Files, "staged.pkg"), content);
        var url = TransferUrl.Parse(Server.Url("slow", "staged.pkg").ToString());
        using var client = new HttpPackageDownloader(new TransferOptions { TrustedRoots = [Server.Ca.Root] });
        var a = FlashSimulator.Create(new FlashSimulatorOptions { Geometry = Geometry, Seed = 1 });
        var b = FlashSimulator.Create(new FlashSimulatorOptions { Geometry = Geometry, Seed = 2 });
        RedundantPair.Format(a, b, cancellationToken: Ct);

        // First run: the node loses power (the pair and the sink's unflushed chunk are gone) while the server is
        // still sending; the server is stopped too so the connection breaks at once.
        var pair = RedundantPair.Mount(a, b, cancellationToken: Ct);
        var first = await AlternateStagingSink.OpenAsync(pair, 64 * 1024, Ct);
        var cut = false;
        var wrapper = new ForwardingSink(first, () =>
        {
            if (!cut && first.DurableLength >= 300_000)
            {
                cut = true;
                Server.Kill();
                throw new TransferInterruptedException("power cut");
            }
        });
        await Assert.ThrowsAsync<TransferInterruptedException>(() => client.DownloadAsync(url, null, 4 << 20, wrapper, Ct));
        await pair.DisposeAsync();

        // After power-up: the durable state names whole chunks only, and the download resumes there.
        pair = RedundantPair.Mount(a, b, cancellationToken: Ct);
        var second = await AlternateStagingSink.OpenAsync(pair, 64 * 1024, Ct);
        Assert.InRange(second.Length, 300_000, content.Length - 1);
        Assert.Equal(0, second.Length % (64 * 1024));
        Assert.NotNull(second.Validator);
        Server.Start();
        await client.DownloadAsync(url, null, 4 << 20, second, Ct);

        Assert.Equal(content, await second.ReadAllAsync(Ct));

        // The synchronous twins see the same complete download.
        var reopened = AlternateStagingSink.Open(pair, 64 * 1024, Ct);
        Assert.Equal((content.Length, content.Length), (reopened.DurableLength, reopened.TotalLength));
        Assert.Equal(content, reopened.ReadAll(Ct));
        Assert.True(SpinWait.SpinUntil(() => Server.AccessLog.Contains("/slow/staged.pkg HTTP/1.1\" 206 ", StringComparison.Ordinal), 5000));
        await pair.DisposeAsync();
    }

    /// <summary>Passes everything to an inner sink and runs a check after each append.</summary>
    private sealed class ForwardingSink(IDownloadSink inner, Action afterAppend) : IDownloadSink
    {
        public long Length => inner.Length;

        public string? Validator => inner.Validator;

        public void Begin(long totalLength, string? validator, bool fromZero) => inner.Begin(totalLength, validator, fromZero);

        public void Append(ReadOnlySpan<byte> data)
        {
            inner.Append(data);
            afterAppend();
        }
    }
}
