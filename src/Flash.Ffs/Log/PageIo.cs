using Flash.Ffs.Format;
using Flash.Drivers;

namespace Flash.Ffs.Log;

/// <summary>The outcome of reading a page through <see cref="PageIo"/>.</summary>
internal enum PageReadStatus
{
    Ok,
    Erased,
    BadTag,
    CrcMismatch,
    Uncorrectable,
}

/// <summary>
/// Reads and programs whole log pages: payload plus tag. On NAND with enough free spare bytes the tag goes into the
/// spare area, so a data page carries a full page of payload and a tag read moves only the spare; on NOR (or NAND with
/// too little free spare) the tag takes the last 32 bytes of the page.
/// </summary>
internal sealed class PageIo
{
    private readonly IFlashDevice _device;
    private readonly FlashGeometry _g;
    private readonly byte[] _page;
    private readonly byte[] _spare;

    public PageIo(IFlashDevice device)
    {
        _device = device;
        _g = device.Geometry;
        TagInSpare = _g.SpareFreeLength >= PageTag.Size;
        PayloadSize = TagInSpare ? _g.PageSize : _g.PageSize - PageTag.Size;
        _page = new byte[_g.PageSize];
        _spare = new byte[_g.SpareSize];
    }

    public IFlashDevice Device => _device;

    /// <summary>RAM held: this object and its page and spare buffers.</summary>
    public long RamBytes => Index.RamSize.Object((4 * 8) + 4 + 4 + 1) + Index.RamSize.Array(1, _page.Length) + Index.RamSize.Array(1, _spare.Length);

    public FlashGeometry Geometry => _g;

    /// <summary>Whether tags live in the spare area.</summary>
    public bool TagInSpare { get; }

    /// <summary>Payload bytes a page carries (a file chunk's size).</summary>
    public int PayloadSize { get; }

    /// <summary>Corrected bits in the worst ECC sector of the last read.</summary>
    public int LastCorrectedBits { get; private set; }

    /// <summary>Test hook: called with the page before every program (debug builds check the write pool's invariant there).</summary>
    public Action<int>? BeforeProgram { get; set; }

    /// <summary>Programs a page: payload (padded with 0xFF) and its tag, whose payload CRC is filled in here.</summary>
    public void Program(int page, ReadOnlySpan<byte> payload, PageTag tag)
    {
        BeforeProgram?.Invoke(page);
        tag.ByteCount = (ushort)payload.Length;
        tag.PayloadCrc = Crc32C.Compute(payload);
        if (TagInSpare && payload.Length == _g.PageSize)
        {
            // Full data page: program straight from the caller's buffer, no copy.
            _spare.AsSpan().Fill(0xFF);
            tag.Write(_spare.AsSpan(_g.SpareFreeOffset, PageTag.Size));
            _device.Program(page, payload, _spare);
            return;
        }

        payload.CopyTo(_page);
        _page.AsSpan(payload.Length).Fill(0xFF);
        if (TagInSpare)
        {
            _spare.AsSpan().Fill(0xFF);
            tag.Write(_spare.AsSpan(_g.SpareFreeOffset, PageTag.Size));
            _device.Program(page, _page, _spare);
        }
        else
        {
            // A small-page NAND spare (16 B) cannot hold the tag: leave all of it erased, the bad-block marker included.
            tag.Write(_page.AsSpan(PayloadSize, PageTag.Size));
            _spare.AsSpan().Fill(0xFF);
            _device.Program(page, _page, _g.SpareSize == 0 ? default : _spare.AsSpan());
        }
    }

    /// <summary>Reads only a page's tag (a spare-area read on NAND).</summary>
    public PageReadStatus ReadTag(int page, out PageTag tag)
    {
        tag = default;
        ReadResult result;
        ReadOnlySpan<byte> tagBytes;
        if (TagInSpare)
        {
            result = _device.Read(page, default, _spare);
            tagBytes = _spare.AsSpan(_g.SpareFreeOffset, PageTag.Size);
        }
        else
        {
            result = _device.Read(page, _page, _g.SpareSize == 0 ? default : _spare.AsSpan());
            tagBytes = _page.AsSpan(PayloadSize, PageTag.Size);
        }

        LastCorrectedBits = result.MaxSectorBits;
        if (PageTag.IsErased(tagBytes))
        {
            return PageReadStatus.Erased;
        }

        if (!PageTag.TryRead(tagBytes, out tag))
        {
            return result.IsUsable ? PageReadStatus.BadTag : PageReadStatus.Uncorrectable;
        }

        return PageReadStatus.Ok;
    }

    /// <summary>Reads a page's payload and tag and verifies the payload CRC. <paramref name="payload"/> must hold <see cref="PayloadSize"/> bytes.</summary>
    public PageReadStatus Read(int page, Span<byte> payload, out PageTag tag)
    {
        tag = default;
        ReadResult result;
        ReadOnlySpan<byte> tagBytes;
        bool direct = TagInSpare && payload.Length == _g.PageSize;
        if (TagInSpare)
        {
            result = _device.Read(page, direct ? payload : _page, _spare);
            tagBytes = _spare.AsSpan(_g.SpareFreeOffset, PageTag.Size);
        }
        else
        {
            result = _device.Read(page, _page, _g.SpareSize == 0 ? default : _spare.AsSpan());
            tagBytes = _page.AsSpan(PayloadSize, PageTag.Size);
        }

        LastCorrectedBits = result.MaxSectorBits;
        if (!direct)
        {
            _page.AsSpan(0, Math.Min(payload.Length, PayloadSize)).CopyTo(payload);
        }

        if (!result.IsUsable)
        {
            return PageReadStatus.Uncorrectable;
        }

        if (PageTag.IsErased(tagBytes))
        {
            return PageReadStatus.Erased;
        }

        if (!PageTag.TryRead(tagBytes, out tag))
        {
            return PageReadStatus.BadTag;
        }

        if (tag.ByteCount > PayloadSize || Crc32C.Compute(payload[..tag.ByteCount]) != tag.PayloadCrc)
        {
            return PageReadStatus.CrcMismatch;
        }

        return PageReadStatus.Ok;
    }
}
