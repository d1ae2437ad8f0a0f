using System.Runtime.InteropServices;

namespace Flash.Drivers.Mtd;

/// <summary>
/// A Linux MTD character device (<c>/dev/mtdN</c>, a whole chip or one partition) as an <see cref="IFlashDevice"/>:
/// geometry from MEMGETINFO, page reads with pread and MEMREADOOB64, programs with MEMWRITE (data and OOB in one
/// request), MEMERASE64, bad blocks with MEMGETBADBLOCK/MEMSETBADBLOCK, and the ECC outcome of every read from the
/// ECCGETSTATS counters taken before and after it.
/// </summary>
/// <remarks>
/// Native calls are source-generated (<c>LibraryImport</c>), so the driver works in NativeAOT programs. Nothing is
/// allocated per operation. Like every <see cref="IFlashDevice"/> it is not thread-safe.
/// </remarks>
public sealed unsafe class MtdDevice : IFlashDevice
{
    private readonly int _fd;
    private readonly long _eraseSize;
    private readonly bool _hasOob;
    private readonly bool _canMarkBad;
    private readonly byte[] _badState;
    private readonly byte[]? _ramScratch;
    private bool _disposed;

    private MtdDevice(string path, int fd, in MtdInfoUser info, FlashGeometry geometry, MtdDeviceOptions options)
    {
        Path = path;
        _fd = fd;
        _eraseSize = info.EraseSize;
        Type = (MtdType)info.Type;
        Flags = info.Flags;
        IsReadOnly = options.ReadOnly;
        IsRaw = options.Raw;
        _hasOob = info.OobSize > 0;
        _canMarkBad = geometry.Kind == FlashKind.Nand;
        Geometry = geometry;
        Statistics = new FlashStatistics(geometry.BlockCount, options.Timing) { DeviceName = path };
        _badState = new byte[geometry.BlockCount];

        // RAM-backed devices (mtdram) overwrite instead of clearing bits; programs AND with the old content there so
        // the device keeps NOR semantics.
        _ramScratch = Type == MtdType.Ram ? new byte[geometry.PageSize] : null;
    }

    /// <summary>The device node this device was opened from.</summary>
    public string Path { get; }

    /// <summary>The kernel's kind of device.</summary>
    public MtdType Type { get; }

    /// <summary>The kernel's MTD flags (MTD_WRITEABLE 0x400, MTD_BIT_WRITEABLE 0x800, MTD_NO_ERASE 0x1000).</summary>
    public uint Flags { get; }

    /// <summary>Whether the device was opened read-only.</summary>
    public bool IsReadOnly { get; }

    /// <summary>Whether the device was opened in raw mode (no kernel ECC).</summary>
    public bool IsRaw { get; }

    /// <inheritdoc />
    public FlashGeometry Geometry { get; }

    /// <inheritdoc />
    public FlashStatistics Statistics { get; }

    /// <summary>Opens an MTD character device and reads its geometry.</summary>
    /// <param name="path">The device node, for example <c>/dev/mtd0</c>.</param>
    /// <param name="options">Read-only or raw access and NOR page size; defaults when null.</param>
    /// <returns>The device.</returns>
    /// <exception cref="MtdNotMtdDeviceException">The node is not an MTD character device.</exception>
    /// <exception cref="MtdPermissionDeniedException">The caller may not open the node.</exception>
    /// <exception cref="MtdReadOnlyException">Write access was asked for but the device or node is read-only.</exception>
    /// <exception cref="MtdException">Any other failure, with its errno.</exception>
    public static MtdDevice Open(string path, MtdDeviceOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        options ??= new MtdDeviceOptions();
        int fd = Interop.Open(path, (options.ReadOnly ? Interop.O_RDONLY : Interop.O_RDWR) | Interop.O_CLOEXEC);
        if (fd < 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            if (!options.ReadOnly && errno is LinuxErrno.EACCES or LinuxErrno.EPERM or LinuxErrno.EROFS)
            {
                ThrowIfOnlyReadable(path, errno);
            }

            throw MtdException.For(errno, $"Cannot open {path}");
        }

        try
        {
            MtdInfoUser info;
            if (Interop.Ioctl(fd, MtdAbi.MemGetInfo, &info) < 0)
            {
                int errno = Marshal.GetLastPInvokeError();
                throw errno is LinuxErrno.ENOTTY or LinuxErrno.EINVAL
                    ? new MtdNotMtdDeviceException(errno, $"{path} is not an MTD character device (MEMGETINFO failed)")
                    : MtdException.For(errno, $"MEMGETINFO on {path} failed");
            }

            if (!options.ReadOnly && (info.Flags & MtdAbi.FlagWriteable) == 0)
            {
                throw new MtdReadOnlyException(LinuxErrno.EROFS, $"{path} is a read-only MTD device; open it with ReadOnly = true");
            }

            if (options.Raw && Interop.IoctlValue(fd, MtdAbi.MtdFileMode, MtdAbi.FileModeRaw) < 0)
            {
                throw MtdException.For(Marshal.GetLastPInvokeError(), $"MTDFILEMODE raw on {path} failed");
            }

            var geometry = BuildGeometry(fd, path, info, options);
            return new MtdDevice(path, fd, info, geometry, options);
        }
        catch
        {
            _ = Interop.Close(fd);
            throw;
        }
    }

    /// <summary>Reads the kernel's ECC counters of the device.</summary>
    /// <returns>The counters.</returns>
    public MtdEccCounters GetEccCounters()
    {
        ThrowIfDisposed();
        var s = ReadEccStats();
        return new MtdEccCounters(s.Corrected, s.Failed, s.BadBlocks, s.BbtBlocks);
    }

    /// <inheritdoc />
    public ReadResult Read(int page, Span<byte> data, Span<byte> spare)
    {
        FlashGuard.Page(Geometry, page);
        FlashGuard.Buffers(Geometry, data.Length, spare.Length);
        ThrowIfDisposed();
        long offset = (long)page * Geometry.PageSize;
        bool track = !IsRaw && _hasOob && !data.IsEmpty;
        MtdEccStats before = track ? ReadEccStats() : default;
        fixed (byte* d = data)
        fixed (byte* s = spare)
        {
            if (!data.IsEmpty)
            {
                nint n = Interop.Pread(_fd, d, (nuint)data.Length, offset);
                if (n < 0)
                {
                    throw MtdException.For(Marshal.GetLastPInvokeError(), $"Read of page {page} on {Path} failed");
                }

                if (n != data.Length)
                {
                    throw new MtdBufferSizeException(LinuxErrno.EINVAL, $"Read of page {page} on {Path} returned {n} of {data.Length} bytes");
                }
            }

            if (!spare.IsEmpty)
            {
                var req = new MtdOobBuf64 { Start = (ulong)offset, Length = (uint)spare.Length, UserPointer = (ulong)s };
                if (Interop.Ioctl(_fd, MtdAbi.MemReadOob64, &req) < 0)
                {
                    throw MtdException.For(Marshal.GetLastPInvokeError(), $"OOB read of page {page} on {Path} failed");
                }

                if (req.Length != spare.Length)
                {
                    throw new MtdBufferSizeException(LinuxErrno.EINVAL, $"OOB read of page {page} on {Path} returned {req.Length} of {spare.Length} bytes");
                }
            }
        }

        var result = ReadResult.Clean;
        if (track)
        {
            var after = ReadEccStats();
            int failed = (int)(after.Failed - before.Failed);
            int corrected = (int)(after.Corrected - before.Corrected);
            result = failed > 0
                ? new ReadResult(EccStatus.Uncorrectable, corrected, corrected)
                : corrected > 0 ? new ReadResult(EccStatus.Corrected, corrected, corrected) : ReadResult.Clean;
        }

        Statistics.RecordRead(data.Length, spare.Length, result);
        return result;
    }

    /// <inheritdoc />
    public void Program(int page, ReadOnlySpan<byte> data, ReadOnlySpan<byte> spare)
    {
        FlashGuard.Page(Geometry, page);
        FlashGuard.Buffers(Geometry, data.Length, spare.Length);
        ThrowIfDisposed();
        ThrowIfReadOnly("program");
        int block = Geometry.BlockOf(page);
        if (IsBadCached(block))
        {
            throw new BadBlockException(block);
        }

        if (data.IsEmpty && spare.IsEmpty)
        {
            return;
        }

        long offset = (long)page * Geometry.PageSize;
        int rc;
        fixed (byte* d = data)
        fixed (byte* s = spare)
        {
            if (spare.IsEmpty && _ramScratch is not null)
            {
                rc = ProgramRam(offset, data);
            }
            else if (spare.IsEmpty)
            {
                nint n = Interop.Pwrite(_fd, d, (nuint)data.Length, offset);
                rc = n < 0 ? -1 : n == data.Length ? 0 : -2;
            }
            else
            {
                var req = new MtdWriteReq
                {
                    Start = (ulong)offset,
                    Length = (ulong)data.Length,
                    OobLength = (ulong)spare.Length,
                    UserData = data.IsEmpty ? 0 : (ulong)d,
                    UserOob = (ulong)s,
                    Mode = IsRaw ? MtdAbi.OpsRaw : MtdAbi.OpsPlaceOob,
                };
                rc = Interop.Ioctl(_fd, MtdAbi.MemWrite, &req);
            }
        }

        Statistics.RecordProgram(data.Length, spare.Length);
        if (rc == -2)
        {
            throw new MtdBufferSizeException(LinuxErrno.EINVAL, $"Program of page {page} on {Path} wrote fewer than {data.Length} bytes");
        }

        if (rc < 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            var error = MtdException.For(errno, $"Program of page {page} on {Path} failed");
            if (error is MtdIOException)
            {
                throw new ProgramFailedException(page, error.Message, error);
            }

            throw error;
        }
    }

    /// <inheritdoc />
    public void Erase(int block)
    {
        FlashGuard.Block(Geometry, block);
        ThrowIfDisposed();
        ThrowIfReadOnly("erase");
        if (IsBadCached(block))
        {
            throw new BadBlockException(block);
        }

        var req = new EraseInfoUser64 { Start = (ulong)(block * _eraseSize), Length = (ulong)_eraseSize };
        int rc = Interop.Ioctl(_fd, MtdAbi.MemErase64, &req);
        Statistics.RecordErase(block);
        if (rc < 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            var error = MtdException.For(errno, $"Erase of block {block} on {Path} failed");
            if (error is MtdIOException)
            {
                _badState[block] = 0;
                if (IsBadCached(block))
                {
                    throw new BadBlockException(block);
                }

                throw new EraseFailedException(block, error.Message, error);
            }

            throw error;
        }
    }

    /// <inheritdoc />
    public bool IsBad(int block)
    {
        FlashGuard.Block(Geometry, block);
        ThrowIfDisposed();
        return IsBadCached(block);
    }

    /// <inheritdoc />
    public void MarkBad(int block)
    {
        FlashGuard.Block(Geometry, block);
        ThrowIfDisposed();
        ThrowIfReadOnly("bad-block marking");
        if (_canMarkBad)
        {
            long offset = block * _eraseSize;
            if (Interop.Ioctl(_fd, MtdAbi.MemSetBadBlock, &offset) < 0)
            {
                int errno = Marshal.GetLastPInvokeError();
                if (errno != LinuxErrno.EOPNOTSUPP)
                {
                    throw MtdException.For(errno, $"Marking block {block} of {Path} bad failed");
                }
            }
        }

        // Devices without bad-block support (NOR, RAM) keep the mark for the lifetime of this handle only.
        _badState[block] = 2;
        Statistics.RecordMarkBad(block);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (!_disposed)
        {
            _disposed = true;
            _ = Interop.Close(_fd);
        }
    }

    private int ProgramRam(long offset, ReadOnlySpan<byte> data)
    {
        var scratch = _ramScratch!;
        fixed (byte* p = scratch)
        {
            nint n = Interop.Pread(_fd, p, (nuint)scratch.Length, offset);
            if (n != scratch.Length)
            {
                return n < 0 ? -1 : -2;
            }

            for (int i = 0; i < scratch.Length; i++)
            {
                scratch[i] &= data[i];
            }

            n = Interop.Pwrite(_fd, p, (nuint)scratch.Length, offset);
            return n < 0 ? -1 : n == scratch.Length ? 0 : -2;
        }
    }

    private bool IsBadCached(int block)
    {
        if (_badState[block] == 0)
        {
            long offset = block * _eraseSize;
            int rc = Interop.Ioctl(_fd, MtdAbi.MemGetBadBlock, &offset);
            if (rc < 0)
            {
                int errno = Marshal.GetLastPInvokeError();
                if (errno != LinuxErrno.EOPNOTSUPP)
                {
                    throw MtdException.For(errno, $"Bad-block query of block {block} on {Path} failed");
                }

                rc = 0;
            }

            _badState[block] = rc > 0 ? (byte)2 : (byte)1;
        }

        return _badState[block] == 2;
    }

    private MtdEccStats ReadEccStats()
    {
        MtdEccStats stats;
        if (Interop.Ioctl(_fd, MtdAbi.EccGetStats, &stats) < 0)
        {
            throw MtdException.For(Marshal.GetLastPInvokeError(), $"ECCGETSTATS on {Path} failed");
        }

        return stats;
    }

    private void ThrowIfReadOnly(string operation)
    {
        if (IsReadOnly)
        {
            throw new MtdReadOnlyException(LinuxErrno.EROFS, $"{Path} was opened read-only ({operation} refused)");
        }
    }

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(_disposed, this);

    private static void ThrowIfOnlyReadable(string path, int errno)
    {
        int fd = Interop.Open(path, Interop.O_RDONLY | Interop.O_CLOEXEC);
        if (fd < 0)
        {
            return;
        }

        try
        {
            MtdInfoUser info;
            bool isMtd = Interop.Ioctl(fd, MtdAbi.MemGetInfo, &info) == 0;
            if (isMtd && ((info.Flags & MtdAbi.FlagWriteable) == 0 || path.EndsWith("ro", StringComparison.Ordinal)))
            {
                throw new MtdReadOnlyException(errno, $"{path} is a read-only MTD device; open it with ReadOnly = true");
            }
        }
        finally
        {
            _ = Interop.Close(fd);
        }
    }

    private static FlashGeometry BuildGeometry(int fd, string path, in MtdInfoUser info, MtdDeviceOptions options)
    {
        if (info.EraseSize == 0 || info.WriteSize == 0 || info.Size == 0)
        {
            throw new MtdNotMtdDeviceException(LinuxErrno.ENODEV, $"{path} reports an empty geometry (size {info.Size}, erase size {info.EraseSize}, write size {info.WriteSize})");
        }

        int blocks = (int)(info.Size / info.EraseSize);
        bool nand = info.OobSize > 0 || (MtdType)info.Type is MtdType.NandFlash or MtdType.MlcNandFlash;
        if (nand)
        {
            int pageSize = (int)info.WriteSize;
            int oob = (int)info.OobSize;
            (int freeOffset, int freeLength) = options.Raw || oob == 0 ? (Math.Min(2, oob), Math.Max(0, oob - 2)) : FreeOob(fd, oob);
            return new FlashGeometry(pageSize, oob, (int)(info.EraseSize / info.WriteSize), blocks, FlashKind.Nand,
                options.PartialPrograms ?? 1, freeOffset, freeLength, sequentialPrograms: true);
        }

        int page = Math.Max(options.NorPageSize, (int)info.WriteSize);
        page = (int)Math.Min(page, info.EraseSize);
        return new FlashGeometry(page, 0, (int)(info.EraseSize / (uint)page), blocks, FlashKind.Nor,
            options.PartialPrograms ?? 8, 0, 0, sequentialPrograms: false);
    }

    private static (int Offset, int Length) FreeOob(int fd, int oobSize)
    {
        NandEccLayoutUser layout;
        if (Interop.Ioctl(fd, MtdAbi.EccGetLayout, &layout) == 0 && layout.OobFree[1] > 0)
        {
            // The file system is given the first free range (after the bad-block marker), as the geometry models one range.
            int offset = (int)layout.OobFree[0];
            int length = (int)layout.OobFree[1];
            if (offset + length <= oobSize)
            {
                return (offset, length);
            }
        }

        // No layout answer: the Linux large-page default keeps the first two bytes for the marker and the last
        // 3 bytes per 256 data bytes for Hamming ECC; leave the caller the bytes between.
        return (2, Math.Max(0, oobSize - 2 - (oobSize * 3 / 8)));
    }
}
