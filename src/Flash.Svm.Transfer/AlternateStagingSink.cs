using System.Buffers.Binary;
using System.IO.Hashing;
using System.Text;
using Flash.Ffs.Mirror;

namespace Flash.Svm.Transfer;

/// <summary>
/// A download sink that keeps the bytes in the alternate context of the redundant pair, so that a download cut by a
/// power loss resumes from the last durable offset instead of from zero. Bytes are gathered into one chunk buffer
/// (<see cref="ChunkSize"/>); each full chunk is written as <c>download/chunk.NNNNN</c> together with the state
/// record <c>download/state</c> in one atomic commit per device, so the state never claims a chunk that is not
/// there. Layout of the state record: docs/transfer.md.
/// </summary>
public sealed class AlternateStagingSink : IDownloadSink
{
    /// <summary>Path of the state record in the alternate context.</summary>
    public const string StatePath = "download/state";

    private const uint StateMagic = 0x54534C44; // "DLST"
    private const ushort StateVersion = 1;

    private readonly RedundantPair _pair;
    private readonly byte[] _chunk;
    private int _buffered;
    private long _durable;
    private long _total = -1;

    private AlternateStagingSink(RedundantPair pair, int chunkSize)
    {
        _pair = pair;
        _chunk = new byte[chunkSize];
    }

    /// <summary>Bytes per chunk file; also the granularity of what survives a power cut.</summary>
    public int ChunkSize => _chunk.Length;

    /// <summary>Bytes that survive a power cut (whole chunks, or the whole file once complete).</summary>
    public long DurableLength => _durable;

    /// <inheritdoc />
    public long Length => _durable + _buffered;

    /// <inheritdoc />
    public string? Validator { get; private set; }

    /// <summary>Size of the whole file, once known (-1 before).</summary>
    public long TotalLength => _total;

    /// <summary>Opens the staging area, picking up a download an earlier run left (after a power cut, say).</summary>
    /// <param name="pair">The mounted pair.</param>
    /// <param name="chunkSize">Bytes per chunk (64 KiB to 1 MiB); must match the earlier run's to resume.</param>
    /// <param name="cancellationToken">Cancels.</param>
    /// <returns>The sink; empty when there is no usable state.</returns>
    public static async Task<AlternateStagingSink> OpenAsync(RedundantPair pair, int chunkSize = 256 * 1024, CancellationToken cancellationToken = default)
    {
        var sink = Create(pair, chunkSize);
        var listing = await pair.ListAlternateAsync(cancellationToken).ConfigureAwait(false);
        sink.Resume(listing.Contains(StatePath) ? await pair.ReadAlternateAsync(StatePath, cancellationToken).ConfigureAwait(false) : null);
        return sink;
    }

    /// <summary>Opens the staging area, picking up a download an earlier run left (the synchronous twin of <see cref="OpenAsync"/>).</summary>
    /// <param name="pair">The mounted pair.</param>
    /// <param name="chunkSize">Bytes per chunk (64 KiB to 1 MiB); must match the earlier run's to resume.</param>
    /// <param name="cancellationToken">Cancels.</param>
    /// <returns>The sink; empty when there is no usable state.</returns>
    public static AlternateStagingSink Open(RedundantPair pair, int chunkSize = 256 * 1024, CancellationToken cancellationToken = default)
    {
        var sink = Create(pair, chunkSize);
        sink.Resume(pair.ListAlternate(cancellationToken).Contains(StatePath) ? pair.ReadAlternate(StatePath, cancellationToken) : null);
        return sink;
    }

    private static AlternateStagingSink Create(RedundantPair pair, int chunkSize)
    {
        ArgumentNullException.ThrowIfNull(pair);
        ArgumentOutOfRangeException.ThrowIfLessThan(chunkSize, 64 * 1024);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(chunkSize, 1 << 20);
        return new AlternateStagingSink(pair, chunkSize);
    }

    private void Resume(byte[]? stateRecord)
    {
        if (stateRecord is not null && TryParseState(stateRecord, out var state) && state.ChunkSize == _chunk.Length)
        {
            (_total, _durable, Validator) = (state.Total, state.Length, state.Validator);
        }
    }

    /// <inheritdoc />
    public void Begin(long totalLength, string? validator, bool fromZero)
    {
        if (fromZero)
        {
            _durable = 0;
            _buffered = 0;
        }

        _total = totalLength;
        Validator = validator;
        if (Length == _total)
        {
            Flush();
        }
    }

    /// <inheritdoc />
    public void Append(ReadOnlySpan<byte> data)
    {
        if (Length + data.Length > _total)
        {
            throw new TransferProtocolException($"the server sent more than the {_total} bytes it announced.");
        }

        while (!data.IsEmpty)
        {
            var n = Math.Min(data.Length, _chunk.Length - _buffered);
            data[..n].CopyTo(_chunk.AsSpan(_buffered));
            _buffered += n;
            data = data[n..];
            if (_buffered == _chunk.Length || Length == _total)
            {
                Flush();
            }
        }
    }

    /// <summary>Reads the complete download back from the alternate context.</summary>
    /// <param name="cancellationToken">Cancels.</param>
    /// <returns>The file.</returns>
    /// <exception cref="InvalidOperationException">The download is not complete.</exception>
    public async Task<byte[]> ReadAllAsync(CancellationToken cancellationToken = default)
    {
        var result = RequireComplete();
        for (long offset = 0, index = 0; offset < _total; offset += _chunk.Length, index++)
        {
            Place(result, index, offset, await _pair.ReadAlternateAsync(ChunkPath(index), cancellationToken).ConfigureAwait(false));
        }

        return result;
    }

    /// <summary>Reads the complete download back from the alternate context (the synchronous twin of <see cref="ReadAllAsync"/>).</summary>
    /// <param name="cancellationToken">Cancels.</param>
    /// <returns>The file.</returns>
    /// <exception cref="InvalidOperationException">The download is not complete.</exception>
    public byte[] ReadAll(CancellationToken cancellationToken = default)
    {
        var result = RequireComplete();
        for (long offset = 0, index = 0; offset < _total; offset += _chunk.Length, index++)
        {
            Place(result, index, offset, _pair.ReadAlternate(ChunkPath(index), cancellationToken));
        }

        return result;
    }

    private byte[] RequireComplete()
        => _total < 0 || _durable != _total ? throw new InvalidOperationException($"The download holds {_durable} of {_total} bytes.") : new byte[_total];

    private void Place(byte[] result, long index, long offset, byte[] chunk)
    {
        var expected = (int)Math.Min(_chunk.Length, _total - offset);
        if (chunk.Length != expected)
        {
            throw new IOException($"Staged chunk {index} holds {chunk.Length} bytes, expected {expected}.");
        }

        chunk.CopyTo(result, offset);
    }

    private void Flush()
    {
        if (_buffered == 0 && _durable != _total)
        {
            return;
        }

        var index = _durable / _chunk.Length;
        var newLength = _durable + _buffered;
        var files = new List<KeyValuePair<string, byte[]>>(2);
        if (_buffered > 0)
        {
            files.Add(new(ChunkPath(index), _chunk.AsSpan(0, _buffered).ToArray()));
        }

        files.Add(new(StatePath, FormatState(_total, newLength, _chunk.Length, Validator)));
        // The sink interface is synchronous; a chunk commit is the one blocking step per ChunkSize bytes.
        _pair.WriteAlternate(files);
        _durable = newLength;
        _buffered = 0;
    }

    private static string ChunkPath(long index) => $"download/chunk.{index:D5}";

    internal static byte[] FormatState(long total, long length, int chunkSize, string? validator)
    {
        var tag = Encoding.UTF8.GetBytes(validator ?? "");
        var data = new byte[4 + 2 + 2 + 8 + 8 + 4 + 2 + tag.Length + 4];
        var s = data.AsSpan();
        BinaryPrimitives.WriteUInt32LittleEndian(s, StateMagic);
        BinaryPrimitives.WriteUInt16LittleEndian(s[4..], StateVersion);
        BinaryPrimitives.WriteUInt16LittleEndian(s[6..], validator is null ? (ushort)0 : (ushort)1);
        BinaryPrimitives.WriteInt64LittleEndian(s[8..], total);
        BinaryPrimitives.WriteInt64LittleEndian(s[16..], length);
        BinaryPrimitives.WriteInt32LittleEndian(s[24..], chunkSize);
        BinaryPrimitives.WriteUInt16LittleEndian(s[28..], (ushort)tag.Length);
        tag.CopyTo(s[30..]);
        BinaryPrimitives.WriteUInt32LittleEndian(s[^4..], Crc32.HashToUInt32(Crc32ParameterSet.Crc32C, s[..^4]));
        return data;
    }

    internal static bool TryParseState(ReadOnlySpan<byte> data, out (long Total, long Length, int ChunkSize, string? Validator) state)
    {
        state = default;
        if (data.Length < 34 || BinaryPrimitives.ReadUInt32LittleEndian(data) != StateMagic || BinaryPrimitives.ReadUInt16LittleEndian(data[4..]) != StateVersion
            || BinaryPrimitives.ReadUInt32LittleEndian(data[^4..]) != Crc32.HashToUInt32(Crc32ParameterSet.Crc32C, data[..^4]))
        {
            return false;
        }

        var tagLength = BinaryPrimitives.ReadUInt16LittleEndian(data[28..]);
        if (30 + tagLength + 4 != data.Length)
        {
            return false;
        }

        var total = BinaryPrimitives.ReadInt64LittleEndian(data[8..]);
        var length = BinaryPrimitives.ReadInt64LittleEndian(data[16..]);
        var chunkSize = BinaryPrimitives.ReadInt32LittleEndian(data[24..]);
        if (total < 0 || length < 0 || length > total || chunkSize <= 0)
        {
            return false;
        }

        var validator = BinaryPrimitives.ReadUInt16LittleEndian(data[6..]) == 1 ? Encoding.UTF8.GetString(data.Slice(30, tagLength)) : null;
        state = (total, length, chunkSize, validator);
        return true;
    }
}
