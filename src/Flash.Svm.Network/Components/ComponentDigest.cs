using System.Security.Cryptography;
using Flash.Svm.Sgc;

namespace Flash.Svm.Network.Components;

/// <summary>
/// Checks a component against its SGC entry while it is served: bytes are fed in file order as they are first read
/// (retransmissions of bytes already fed are skipped), and <see cref="Complete"/> says whether size and SHA-256 match.
/// </summary>
internal sealed class ComponentDigest(SgcComponent component) : IDisposable
{
    private readonly IncrementalHash _sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);

    /// <summary>Bytes fed so far (the next offset expected).</summary>
    public long Fed { get; private set; }

    public SgcComponent Component { get; } = component;

    /// <summary>Feeds bytes read at <paramref name="offset"/>; bytes before <see cref="Fed"/> are ignored.</summary>
    public void Feed(long offset, ReadOnlySpan<byte> data)
    {
        if (offset > Fed)
        {
            throw new InvalidOperationException($"Component {Component.Name}: bytes at {offset} fed before bytes at {Fed}.");
        }

        long skip = Fed - offset;
        if (skip >= data.Length)
        {
            return;
        }

        var fresh = data[(int)skip..];
        _sha.AppendData(fresh);
        Fed += fresh.Length;
    }

    /// <summary>True when everything was fed and it matches the SGC entry's size and SHA-256.</summary>
    public bool Complete()
    {
        if (Fed != Component.Size)
        {
            return false;
        }

        Span<byte> hash = stackalloc byte[32];
        _sha.GetCurrentHash(hash);
        return hash.SequenceEqual(Component.Sha256);
    }

    public void Dispose() => _sha.Dispose();
}
