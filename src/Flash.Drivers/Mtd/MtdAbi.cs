using System.Runtime.InteropServices;

namespace Flash.Drivers.Mtd;

/// <summary>
/// The Linux MTD user-space ABI as the driver uses it: struct layouts (exactly as in the kernel's
/// <c>mtd/mtd-abi.h</c>), ioctl request numbers and constants. <see cref="Values"/> lists every size,
/// offset and number so a test can compare them with a C probe compiled against the kernel headers.
/// </summary>
internal static unsafe class MtdAbi
{
    // _IOC encoding of the generic Linux ioctl layout (x86, arm, arm64, riscv): nr 8 bits, type 8 bits, size 14 bits, dir 2 bits.
    private const uint IocNone = 0, IocWrite = 1, IocRead = 2;

    private static uint Ioc(uint dir, uint nr, int size) => (dir << 30) | ((uint)size << 16) | ((uint)'M' << 8) | nr;

    /// <summary>MEMGETINFO: _IOR('M', 1, struct mtd_info_user).</summary>
    public static readonly uint MemGetInfo = Ioc(IocRead, 1, sizeof(MtdInfoUser));

    /// <summary>MEMGETBADBLOCK: _IOW('M', 11, __kernel_loff_t).</summary>
    public static readonly uint MemGetBadBlock = Ioc(IocWrite, 11, sizeof(long));

    /// <summary>MEMSETBADBLOCK: _IOW('M', 12, __kernel_loff_t).</summary>
    public static readonly uint MemSetBadBlock = Ioc(IocWrite, 12, sizeof(long));

    /// <summary>ECCGETLAYOUT: _IOR('M', 17, struct nand_ecclayout_user) (obsolete in the kernel but still answered).</summary>
    public static readonly uint EccGetLayout = Ioc(IocRead, 17, sizeof(NandEccLayoutUser));

    /// <summary>ECCGETSTATS: _IOR('M', 18, struct mtd_ecc_stats).</summary>
    public static readonly uint EccGetStats = Ioc(IocRead, 18, sizeof(MtdEccStats));

    /// <summary>MTDFILEMODE: _IO('M', 19).</summary>
    public static readonly uint MtdFileMode = Ioc(IocNone, 19, 0);

    /// <summary>MEMERASE64: _IOW('M', 20, struct erase_info_user64).</summary>
    public static readonly uint MemErase64 = Ioc(IocWrite, 20, sizeof(EraseInfoUser64));

    /// <summary>MEMWRITEOOB64: _IOWR('M', 21, struct mtd_oob_buf64).</summary>
    public static readonly uint MemWriteOob64 = Ioc(IocRead | IocWrite, 21, sizeof(MtdOobBuf64));

    /// <summary>MEMREADOOB64: _IOWR('M', 22, struct mtd_oob_buf64).</summary>
    public static readonly uint MemReadOob64 = Ioc(IocRead | IocWrite, 22, sizeof(MtdOobBuf64));

    /// <summary>MEMWRITE: _IOWR('M', 24, struct mtd_write_req).</summary>
    public static readonly uint MemWrite = Ioc(IocRead | IocWrite, 24, sizeof(MtdWriteReq));

    /// <summary>mtd_info_user.type: RAM.</summary>
    public const byte TypeRam = 1;

    /// <summary>mtd_info_user.type: ROM.</summary>
    public const byte TypeRom = 2;

    /// <summary>mtd_info_user.type: NOR flash.</summary>
    public const byte TypeNorFlash = 3;

    /// <summary>mtd_info_user.type: SLC NAND flash.</summary>
    public const byte TypeNandFlash = 4;

    /// <summary>mtd_info_user.type: DataFlash.</summary>
    public const byte TypeDataFlash = 6;

    /// <summary>mtd_info_user.type: UBI volume.</summary>
    public const byte TypeUbiVolume = 7;

    /// <summary>mtd_info_user.type: MLC NAND flash.</summary>
    public const byte TypeMlcNandFlash = 8;

    /// <summary>mtd_info_user.flags: the device is writeable.</summary>
    public const uint FlagWriteable = 0x400;

    /// <summary>mtd_info_user.flags: single bits can be cleared (NOR-like partial programs).</summary>
    public const uint FlagBitWriteable = 0x800;

    /// <summary>mtd_info_user.flags: no erase is needed (RAM).</summary>
    public const uint FlagNoErase = 0x1000;

    /// <summary>MTD_OPS_PLACE_OOB: OOB bytes go where the caller puts them; the kernel writes its ECC over the ECC positions.</summary>
    public const byte OpsPlaceOob = 0;

    /// <summary>MTD_OPS_AUTO_OOB: OOB bytes go into the free positions only.</summary>
    public const byte OpsAutoOob = 1;

    /// <summary>MTD_OPS_RAW: data and OOB are moved as they are, without ECC.</summary>
    public const byte OpsRaw = 2;

    /// <summary>MTD_FILE_MODE_NORMAL: reads and writes go through the chip's ECC.</summary>
    public const int FileModeNormal = 0;

    /// <summary>MTD_FILE_MODE_RAW: reads and writes bypass ECC (for software ECC above).</summary>
    public const int FileModeRaw = 3;

    private static long Rel(void* structure, void* field) => (byte*)field - (byte*)structure;

    /// <summary>Every size, field offset and request number above, by the name the C probe prints.</summary>
    /// <returns>Name and value pairs.</returns>
    public static IReadOnlyList<KeyValuePair<string, long>> Values()
    {
        MtdInfoUser info = default;
        EraseInfoUser64 erase = default;
        MtdOobBuf64 oob = default;
        MtdWriteReq write = default;
        MtdEccStats stats = default;
        NandEccLayoutUser layout = default;
        return
        [
            new("sizeof_mtd_info_user", sizeof(MtdInfoUser)),
            new("offsetof_mtd_info_user_type", Rel(&info, &info.Type)),
            new("offsetof_mtd_info_user_flags", Rel(&info, &info.Flags)),
            new("offsetof_mtd_info_user_size", Rel(&info, &info.Size)),
            new("offsetof_mtd_info_user_erasesize", Rel(&info, &info.EraseSize)),
            new("offsetof_mtd_info_user_writesize", Rel(&info, &info.WriteSize)),
            new("offsetof_mtd_info_user_oobsize", Rel(&info, &info.OobSize)),
            new("sizeof_erase_info_user64", sizeof(EraseInfoUser64)),
            new("offsetof_erase_info_user64_start", Rel(&erase, &erase.Start)),
            new("offsetof_erase_info_user64_length", Rel(&erase, &erase.Length)),
            new("sizeof_mtd_oob_buf64", sizeof(MtdOobBuf64)),
            new("offsetof_mtd_oob_buf64_start", Rel(&oob, &oob.Start)),
            new("offsetof_mtd_oob_buf64_length", Rel(&oob, &oob.Length)),
            new("offsetof_mtd_oob_buf64_usr_ptr", Rel(&oob, &oob.UserPointer)),
            new("sizeof_mtd_write_req", sizeof(MtdWriteReq)),
            new("offsetof_mtd_write_req_start", Rel(&write, &write.Start)),
            new("offsetof_mtd_write_req_len", Rel(&write, &write.Length)),
            new("offsetof_mtd_write_req_ooblen", Rel(&write, &write.OobLength)),
            new("offsetof_mtd_write_req_usr_data", Rel(&write, &write.UserData)),
            new("offsetof_mtd_write_req_usr_oob", Rel(&write, &write.UserOob)),
            new("offsetof_mtd_write_req_mode", Rel(&write, &write.Mode)),
            new("sizeof_mtd_ecc_stats", sizeof(MtdEccStats)),
            new("offsetof_mtd_ecc_stats_corrected", Rel(&stats, &stats.Corrected)),
            new("offsetof_mtd_ecc_stats_failed", Rel(&stats, &stats.Failed)),
            new("offsetof_mtd_ecc_stats_badblocks", Rel(&stats, &stats.BadBlocks)),
            new("offsetof_mtd_ecc_stats_bbtblocks", Rel(&stats, &stats.BbtBlocks)),
            new("sizeof_nand_ecclayout_user", sizeof(NandEccLayoutUser)),
            new("offsetof_nand_ecclayout_user_oobavail", Rel(&layout, &layout.OobAvail)),
            new("offsetof_nand_ecclayout_user_oobfree", Rel(&layout, layout.OobFree)),
            new("MEMGETINFO", MemGetInfo),
            new("MEMGETBADBLOCK", MemGetBadBlock),
            new("MEMSETBADBLOCK", MemSetBadBlock),
            new("ECCGETLAYOUT", EccGetLayout),
            new("ECCGETSTATS", EccGetStats),
            new("MTDFILEMODE", MtdFileMode),
            new("MEMERASE64", MemErase64),
            new("MEMWRITEOOB64", MemWriteOob64),
            new("MEMREADOOB64", MemReadOob64),
            new("MEMWRITE", MemWrite),
            new("MTD_NANDFLASH", TypeNandFlash),
            new("MTD_NORFLASH", TypeNorFlash),
            new("MTD_RAM", TypeRam),
            new("MTD_MLCNANDFLASH", TypeMlcNandFlash),
            new("MTD_WRITEABLE", FlagWriteable),
            new("MTD_BIT_WRITEABLE", FlagBitWriteable),
            new("MTD_NO_ERASE", FlagNoErase),
            new("MTD_OPS_PLACE_OOB", OpsPlaceOob),
            new("MTD_OPS_AUTO_OOB", OpsAutoOob),
            new("MTD_OPS_RAW", OpsRaw),
            new("MTD_FILE_MODE_NORMAL", FileModeNormal),
            new("MTD_FILE_MODE_RAW", FileModeRaw),
        ];
    }
}

/// <summary>struct mtd_info_user: the device's type, flags and sizes (MEMGETINFO).</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct MtdInfoUser
{
    public byte Type;
    public uint Flags;
    public uint Size;
    public uint EraseSize;
    public uint WriteSize;
    public uint OobSize;
    public ulong Padding;
}

/// <summary>struct erase_info_user64: the byte range of a MEMERASE64 request.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct EraseInfoUser64
{
    public ulong Start;
    public ulong Length;
}

/// <summary>struct mtd_oob_buf64: an OOB transfer (MEMREADOOB64, MEMWRITEOOB64).</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct MtdOobBuf64
{
    public ulong Start;
    public uint Pad;
    public uint Length;
    public ulong UserPointer;
}

/// <summary>struct mtd_write_req: a page program of data and OOB in one request (MEMWRITE).</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct MtdWriteReq
{
    public ulong Start;
    public ulong Length;
    public ulong OobLength;
    public ulong UserData;
    public ulong UserOob;
    public byte Mode;
    public byte Padding0;
    public byte Padding1;
    public byte Padding2;
    public byte Padding3;
    public byte Padding4;
    public byte Padding5;
    public byte Padding6;
}

/// <summary>struct mtd_ecc_stats: the device's running ECC counters (ECCGETSTATS).</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct MtdEccStats
{
    public uint Corrected;
    public uint Failed;
    public uint BadBlocks;
    public uint BbtBlocks;
}

/// <summary>struct nand_ecclayout_user: ECC positions and free OOB ranges (ECCGETLAYOUT).</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct NandEccLayoutUser
{
    public uint EccBytes;
    public fixed uint EccPos[64];
    public uint OobAvail;

    /// <summary>Eight (offset, length) pairs.</summary>
    public fixed uint OobFree[16];
}
