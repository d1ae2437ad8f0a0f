using Flash.Drivers;
using Flash.Ffs.Index;
using Microsoft.Extensions.Logging;

namespace Flash.Ffs.Blocks;

/// <summary>
/// Programming only erased pages. A block this mount erased itself is known erased. Anything else (free blocks the
/// checkpoint calls erased, the heads' blocks it continues, the anchor block's next page) was erased by an earlier
/// mount, and a damaged or hand-edited image may hold data there whose tag reads erased: programming over it would
/// destroy both. Such a page is read whole (data and spare) before its first program.
/// </summary>
internal sealed class EraseCheck
{
    private readonly IFlashDevice _device;
    private readonly ILogger _log;
    private readonly int _ppb;

    /// <summary>Blocks erased by this mount: their pages need no check (allocated on first use).</summary>
    private bool[] _erasedHere = [];
    private byte[] _verifyData = [];
    private byte[] _verifySpare = [];

    public EraseCheck(IFlashDevice device, ILogger log)
    {
        _device = device;
        _log = log;
        _ppb = device.Geometry.PagesPerBlock;
    }

    /// <summary>Pages found not erased where they should have been, since mount.</summary>
    public long NotErasedFound { get; private set; }

    /// <summary>RAM held: this object and its buffers.</summary>
    public long RamBytes => RamSize.Object((5 * RamSize.Reference) + 8 + 4)
        + RamSize.Array(1, _erasedHere.Length) + RamSize.Array(1, _verifyData.Length) + RamSize.Array(1, _verifySpare.Length);

    /// <summary>Notes that this mount erased <paramref name="block"/>.</summary>
    public void NoteErased(int block)
    {
        if (_erasedHere.Length == 0)
        {
            _erasedHere = new bool[_device.Geometry.BlockCount];
        }

        _erasedHere[block] = true;
    }

    /// <summary>
    /// Whether <paramref name="page"/> of <paramref name="block"/> needs no read before it is programmed: the block was
    /// erased by this mount, or it is a later page of a fresh block (NAND programs pages in ascending order only).
    /// </summary>
    public bool NeedsNoCheck(int block, int page, bool inherited)
    {
        if (_erasedHere.Length == 0)
        {
            _erasedHere = new bool[_device.Geometry.BlockCount];
        }

        return _erasedHere[block] || (!inherited && page % _ppb != 0);
    }

    /// <summary>
    /// Reads what must be erased before <paramref name="page"/> is programmed: for an <paramref name="inherited"/>
    /// block (already being written when this mount found it) this page and every later one of the block, else this
    /// page, the next one's spare and the block's last page (a block written back or swapped in is programmed there; a block
    /// written after the checkpoint whose first page was damaged to read erased has its second page programmed, which
    /// the damaged-image fuzz found when a head opened such a block at its first page and programmed over the rest).
    /// </summary>
    public bool Verify(int block, int page, bool inherited)
    {
        int lastPage = (block * _ppb) + _ppb - 1;
        bool erased = inherited
            ? RangeIsErased(page, lastPage)
            : PageIsErased(page) && (page + 1 >= lastPage || SpareIsErased(page + 1)) && PageIsErased(lastPage);
        if (!erased)
        {
            _log.LogWarning(FfsEvents.NotErased, "Page {Page} or a later one of block {Block} should be erased and is not; the block is closed and will be erased before its next use", page, block);
            NotErasedFound++;
        }

        return erased;
    }

    private bool RangeIsErased(int from, int to)
    {
        for (int p = from; p <= to; p++)
        {
            if (!PageIsErased(p))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// Whether a page's spare area reads all 0xFF (every page the file system programs carries its tag there), or on a
    /// part without spare (NOR) its data: a spare-only read costs a third of a full one on the reference part.
    /// </summary>
    private bool SpareIsErased(int page)
    {
        if (_device.Geometry.SpareSize == 0)
        {
            return PageIsErased(page);
        }

        EnsureBuffers();
        _device.Read(page, [], _verifySpare);
        return !_verifySpare.AsSpan().ContainsAnyExcept((byte)0xFF);
    }

    /// <summary>Whether a page reads all 0xFF, data and spare.</summary>
    private bool PageIsErased(int page)
    {
        EnsureBuffers();
        _device.Read(page, _verifyData, _verifySpare);
        return !_verifyData.AsSpan().ContainsAnyExcept((byte)0xFF) && !_verifySpare.AsSpan().ContainsAnyExcept((byte)0xFF);
    }

    /// <summary>Allocates the page buffers the reads share, at the first check (most mounts never need one).</summary>
    private void EnsureBuffers()
    {
        if (_verifyData.Length == 0)
        {
            _verifyData = new byte[_device.Geometry.PageSize];
            _verifySpare = new byte[_device.Geometry.SpareSize];
        }
    }
}
