using Flash.Svm;
using Flash.Svm.Packages;
using Flash.Tests.Svm.Streaming;

namespace Flash.Tests.Svm.Packages;

/// <summary>The push parser of the streaming install, and its durable state record.</summary>
public class PackageStreamReaderTests
{
    private static PackageVerificationOptions Options => new() { TrustedKeys = [SvmNode.Key.ExportSubjectPublicKeyInfo()], Trust = StreamingReleases.Trust };

    private sealed class Collector : IPackageStreamTarget
    {
        private readonly Dictionary<string, MemoryStream> _bodies = new(StringComparer.Ordinal);

        public PackageHeader? Header { get; private set; }

        public List<(string Name, long End)> Verified { get; } = [];

        public int Signed { get; private set; }

        public byte[] Body(string name) => _bodies[name].ToArray();

        public void OnHeader(PackageHeader header) => Header = header;

        public void OnComponentBytes(PackageEntry entry, ReadOnlySpan<byte> data)
        {
            if (!_bodies.TryGetValue(entry.Name, out var body))
            {
                _bodies[entry.Name] = body = new MemoryStream();
            }

            body.Write(data);
        }

        public void OnComponentVerified(PackageEntry entry, long endOffset) => Verified.Add((entry.Name, endOffset));

        public void OnSigned(ReadOnlySpan<byte> trailer) => Signed++;
    }

    private static Collector Feed(byte[] package, int piece, PackageVerificationOptions? options = null)
    {
        var target = new Collector();
        using var reader = new PackageStreamReader(options ?? Options, target);
        reader.Begin(package.Length);
        for (var at = 0; at < package.Length; at += piece)
        {
            reader.Append(package.AsSpan(at, Math.Min(piece, package.Length - at)));
        }

        Assert.True(reader.IsComplete);
        return target;
    }

    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(4096)]
    [InlineData(1 << 22)]
    public void Any_split_of_the_stream_verifies_and_delivers_every_body(int piece)
    {
        var package = StreamingReleases.R2;
        var opened = SoftwarePackage.Open(package, Options);

        var seen = Feed(package, piece);

        Assert.Equal(1, seen.Signed);
        Assert.Equal(opened.Sgc.Components.Select(c => c.Name), seen.Verified.Select(v => v.Name));
        foreach (var c in opened.Sgc.Components)
        {
            Assert.Equal(opened.Component(c.Name).ToArray(), seen.Body(c.Name));
        }
    }

    [Fact]
    public void A_format_1_package_streams_with_its_signature_hashed_as_it_arrives()
    {
        Assert.Equal(1, Feed(SvmNode.R1, 1000).Signed);
        var e = Assert.Throws<PackageRejectedException>(() => Feed(SvmNode.Release(1, SvmNode.OtherKey), 1000));
        Assert.Equal(PackageRejectReason.BadSignature, e.Reason);
    }

    [Fact]
    public void Resuming_at_a_component_boundary_continues_and_a_format_1_package_is_refused()
    {
        var package = StreamingReleases.R2;
        var first = Feed(package, 1 << 22);
        var header = first.Header!;
        var boundary = first.Verified[1].End;

        var target = new Collector();
        using var reader = new PackageStreamReader(Options, target);
        Assert.False(reader.Resume(header, header.Length - 1, package.Length));
        Assert.True(reader.Resume(header, boundary, package.Length));
        Assert.Null(reader.ResumedEntry);
        reader.Begin(package.Length);
        reader.Append(package.AsSpan((int)boundary));

        Assert.True(reader.IsComplete);
        Assert.Equal(first.Verified.Skip(2), target.Verified);
        using var v1 = new PackageStreamReader(Options, new Collector());
        var h1 = Feed(SvmNode.R1, 1 << 22).Header!;
        Assert.False(v1.Resume(h1, h1.Length, SvmNode.R1.Length));
    }

    [Fact]
    public void Resuming_inside_a_body_needs_its_prefix_and_verifies_the_whole_body()
    {
        var package = StreamingReleases.R2;
        var first = Feed(package, 1 << 22);
        var header = first.Header!;
        var inside = first.Verified[1].End + 1000;

        var target = new Collector();
        using var reader = new PackageStreamReader(Options, target);
        Assert.True(reader.Resume(header, inside, package.Length));
        var entry = reader.ResumedEntry!;
        Assert.Equal(header.Entries[2].Name, entry.Name);
        Assert.Equal(1000, reader.PrefixToRestore);
        reader.Begin(package.Length);
        Assert.Throws<InvalidOperationException>(() => reader.Append(package.AsSpan((int)inside, 10)));
        reader.RestorePrefix(package.AsSpan((int)(inside - 1000), 600));
        reader.RestorePrefix(package.AsSpan((int)(inside - 400), 400));
        Assert.Equal(0, reader.PrefixToRestore);
        reader.Append(package.AsSpan((int)inside));
        Assert.True(reader.IsComplete);
        Assert.Equal(first.Verified.Skip(2), target.Verified);

        // A prefix that is not the body's own fails the body's digest at its last byte.
        using var wrong = new PackageStreamReader(Options, new Collector());
        Assert.True(wrong.Resume(header, inside, package.Length));
        wrong.Begin(package.Length);
        wrong.RestorePrefix(new byte[1000]);
        var e = Assert.Throws<PackageRejectedException>(() => wrong.Append(package.AsSpan((int)inside)));
        Assert.Equal(PackageRejectReason.ChecksumMismatch, e.Reason);
    }

    [Fact]
    public void The_install_state_record_round_trips_and_any_damage_is_refused()
    {
        var state = new StreamingInstallState(StreamingInstallState.IdentityOf(new TransferParameters("https", "https://h/p.pkg")), UpgradeMode.Partial, 2, 1_000_000, 65_536, "\"etag-1\"");
        var bytes = state.Encode();

        var back = StreamingInstallState.TryDecode(bytes)!;
        Assert.Equal(state.Identity, back.Identity);
        Assert.Equal(state with { Identity = back.Identity }, back);
        Assert.True(back.BelongsTo(StreamingInstallState.IdentityOf(new TransferParameters("https", "https://h/p.pkg", "user", "secret")), UpgradeMode.Partial));
        Assert.False(back.BelongsTo(StreamingInstallState.IdentityOf(new TransferParameters("https", "https://h/q.pkg")), UpgradeMode.Partial));
        Assert.False(back.BelongsTo(back.Identity, UpgradeMode.Full));
        for (var i = 0; i < bytes.Length; i++)
        {
            var damaged = bytes.ToArray();
            damaged[i] ^= 0x10;
            Assert.Null(StreamingInstallState.TryDecode(damaged));
        }

        Assert.Null(StreamingInstallState.TryDecode(bytes.AsSpan(0, bytes.Length - 1)));
        Assert.Null(StreamingInstallState.TryDecode((state with { Validator = null }).Encode().AsSpan(1)));
    }
}
