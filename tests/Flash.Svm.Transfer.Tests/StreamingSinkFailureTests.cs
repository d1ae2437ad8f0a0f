using Flash.Svm.Packages;
using Flash.Svm.Transfer.Tests.Servers;

namespace Flash.Svm.Transfer.Tests;

/// <summary>
/// What the SVM's install throws while a real server streams into it (a rejected package) comes out of
/// <see cref="NetworkSoftwareSource.StreamAsync"/> unchanged, after one attempt: it is not taken for a broken connection.
/// </summary>
public sealed class StreamingSinkFailureTests(NginxFixture nginx, VsftpdFixture vsftpd) : IClassFixture<NginxFixture>, IClassFixture<VsftpdFixture>
{
    private static readonly CancellationToken Ct = TestContext.Current.CancellationToken;

    [Fact]
    public async Task Https_ARejectingSinkStopsTheTransferWithItsOwnException()
    {
        if (nginx.Server is null)
        {
            Assert.Skip(nginx.SkipReason);
        }

        File.WriteAllBytes(Path.Combine(nginx.Server.Files, "reject.pkg"), Content.Random(300_000, 71));
        await Check(new TransferParameters("https", nginx.Server.Url("files", "reject.pkg").ToString()), new TransferOptions { TrustedRoots = [nginx.Server.Ca.Root], RetryDelay = TimeSpan.FromMilliseconds(50) });
    }

    [Fact]
    public async Task Ftp_ARejectingSinkStopsTheTransferWithItsOwnException()
    {
        if (vsftpd.Server is null)
        {
            Assert.Skip(vsftpd.SkipReason);
        }

        vsftpd.Server.Put("reject.pkg", Content.Random(300_000, 72));
        await Check(new TransferParameters("ftp", vsftpd.Server.Url("reject.pkg")), new TransferOptions { RetryDelay = TimeSpan.FromMilliseconds(50) });
    }

    private static async Task Check(TransferParameters parameters, TransferOptions options)
    {
        var (sources, owner) = NetworkSoftwareSource.CreateAll(options);
        using (owner)
        {
            var source = (IAsyncStreamingSoftwareSource)sources.Single(s => s.Kind == parameters.Source);
            var sink = new RejectingSink(100_000);

            var e = await Assert.ThrowsAsync<PackageRejectedException>(() => source.StreamAsync(parameters, 1 << 20, sink, Ct));

            Assert.Equal(PackageRejectReason.ChecksumMismatch, e.Reason);
            Assert.Equal(1, sink.Attempts);
        }
    }

    /// <summary>Takes bytes until <paramref name="limit"/>, then rejects the package as the install would.</summary>
    private sealed class RejectingSink(long limit) : IPackageSink
    {
        public long Length { get; private set; }

        public string? Validator { get; private set; }

        public int Attempts { get; private set; }

        public void Begin(long totalLength, string? validator, bool fromZero)
        {
            Attempts++;
            Validator = validator;
        }

        public void Append(ReadOnlySpan<byte> data)
        {
            Length += data.Length;
            if (Length > limit)
            {
                throw new PackageRejectedException(PackageRejectReason.ChecksumMismatch, "component digest mismatch (test)");
            }
        }
    }
}
