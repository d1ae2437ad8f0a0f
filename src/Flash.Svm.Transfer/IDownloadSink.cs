namespace Flash.Svm.Transfer;

/// <summary>
/// Where downloaded bytes go, and what survives between attempts: the number of bytes already held and the identity
/// (validator) of the server file they came from. A durable sink (the alternate context) lets a download resume after
/// a power cut; <see cref="MemoryDownloadSink"/> resumes only within one process.
/// </summary>
public interface IDownloadSink
{
    /// <summary>Bytes held from earlier attempts (the resume offset).</summary>
    long Length { get; }

    /// <summary>The server's identity of the file those bytes came from (HTTP strong ETag or Last-Modified, FTP MDTM), or null.</summary>
    string? Validator { get; }

    /// <summary>Called once per attempt, after the server said what it will send and before any byte.</summary>
    /// <param name="totalLength">Size of the whole file.</param>
    /// <param name="validator">Its identity now.</param>
    /// <param name="fromZero">True when the held bytes must be discarded (file changed, or the server cannot resume).</param>
    void Begin(long totalLength, string? validator, bool fromZero);

    /// <summary>Appends bytes at <see cref="Length"/>.</summary>
    /// <param name="data">The bytes; valid only during the call.</param>
    void Append(ReadOnlySpan<byte> data);
}

/// <summary>A sink in memory, bounded by the size the server announced (itself checked against the caller's limit).</summary>
public sealed class MemoryDownloadSink : IDownloadSink
{
    private byte[] _data = [];
    private long _length;

    /// <inheritdoc />
    public long Length => _length;

    /// <inheritdoc />
    public string? Validator { get; private set; }

    /// <summary>Size of the whole file, once known.</summary>
    public long TotalLength { get; private set; } = -1;

    /// <summary>How many attempts discarded held bytes.</summary>
    public int Restarts { get; private set; }

    /// <summary>How many attempts started at a non-zero offset and kept the held bytes.</summary>
    public int Resumes { get; private set; }

    /// <inheritdoc />
    public void Begin(long totalLength, string? validator, bool fromZero)
    {
        if (fromZero && _length > 0)
        {
            Restarts++;
        }
        else if (_length > 0)
        {
            Resumes++;
        }

        if (fromZero || _data.Length != totalLength)
        {
            var fresh = new byte[checked((int)totalLength)];
            if (!fromZero)
            {
                _data.AsSpan(0, (int)Math.Min(_length, totalLength)).CopyTo(fresh);
            }

            _data = fresh;
        }

        if (fromZero)
        {
            _length = 0;
        }

        TotalLength = totalLength;
        Validator = validator;
    }

    /// <inheritdoc />
    public void Append(ReadOnlySpan<byte> data)
    {
        if (_length + data.Length > _data.Length)
        {
            throw new TransferProtocolException($"the server sent more than the {_data.Length} bytes it announced.");
        }

        data.CopyTo(_data.AsSpan((int)_length));
        _length += data.Length;
    }

    /// <summary>The bytes received so far (the whole file once complete).</summary>
    /// <returns>The bytes.</returns>
    public byte[] ToArray() => _length == _data.Length ? _data : _data.AsSpan(0, (int)_length).ToArray();
}
