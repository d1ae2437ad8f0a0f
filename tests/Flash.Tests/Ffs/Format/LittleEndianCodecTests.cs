using Flash.Ffs;
using Flash.Ffs.Format;

namespace Flash.Tests.Ffs.Format;

public sealed class LittleEndianCodecTests
{
    [Fact]
    public void Round_trip_of_every_field_kind_is_little_endian_and_exact()
    {
        Span<byte> buffer = stackalloc byte[64];
        var w = new LittleEndianWriter(buffer);
        w.U8(0xAB);
        w.U16(0x1234);
        w.U32(0xDEADBEEF);
        w.I32(-2);
        w.U64(0x0102030405060708);
        w.I64(long.MinValue);
        w.Utf8WithLength16("ä/x");
        w.AppendCrc32C();
        int length = w.Position;

        Assert.Equal(new byte[] { 0xAB, 0x34, 0x12, 0xEF, 0xBE, 0xAD, 0xDE }, buffer[..7].ToArray());
        var r = new LittleEndianReader(buffer[..length], static () => new FileSystemCorruptException("overrun"));
        Assert.Equal(0xAB, r.U8());
        Assert.Equal(0x1234, r.U16());
        Assert.Equal(0xDEADBEEF, r.U32());
        Assert.Equal(-2, r.I32());
        Assert.Equal(0x0102030405060708UL, r.U64());
        Assert.Equal(long.MinValue, r.I64());
        Assert.Equal("ä/x", r.Utf8WithLength16());
        r.VerifyCrc32C();
        Assert.Equal(0, r.Remaining);
    }

    [Fact]
    public void Bytes_takes_a_stack_buffer_into_a_writer_over_a_longer_lived_array()
    {
        // Compiles only because Bytes' parameter is scoped: the writer (over a heap array) may outlive the stack span.
        var record = new byte[6];
        var w = new LittleEndianWriter(record);
        Span<byte> scratch = stackalloc byte[4];
        scratch.Fill(0x5A);
        w.U16(0x0102);
        w.Bytes(scratch);

        Assert.Equal(new byte[] { 0x02, 0x01, 0x5A, 0x5A, 0x5A, 0x5A }, record);
        Assert.Equal(6, w.Position);
    }

    [Fact]
    public void Overrun_throws_the_codecs_own_exception()
    {
        byte[] data = [1, 2, 3];
        var ex = Assert.Throws<FileSystemCorruptException>(() =>
        {
            var r = new LittleEndianReader(data, static () => new FileSystemCorruptException("short"));
            r.U32();
        });
        Assert.Equal("short", ex.Message);
        Assert.Throws<FileSystemCorruptException>(() =>
        {
            var r = new LittleEndianReader(data, static () => new FileSystemCorruptException("short"));
            r.Bytes(-1);
        });
    }

    [Fact]
    public void A_damaged_crc_or_bad_utf8_is_rejected()
    {
        byte[] data = new byte[16];
        var w = new LittleEndianWriter(data);
        w.U64(42);
        w.AppendCrc32C();
        data[3] ^= 0x10;
        Assert.Throws<FileSystemCorruptException>(() =>
        {
            var r = new LittleEndianReader(data.AsSpan(0, 12), static () => new FileSystemCorruptException("crc"));
            r.U64();
            r.VerifyCrc32C();
        });

        byte[] utf8 = [2, 0, 0xC3, 0x28];
        Assert.Throws<FileSystemCorruptException>(() =>
        {
            var r = new LittleEndianReader(utf8, static () => new FileSystemCorruptException("utf8"));
            r.Utf8WithLength16();
        });
    }

    [Fact]
    public void A_fixed_writer_refuses_to_overrun_and_a_growable_one_grows()
    {
        Assert.Throws<InvalidOperationException>(() =>
        {
            Span<byte> small = stackalloc byte[3];
            var w = new LittleEndianWriter(small);
            w.U32(1);
        });

        var g = LittleEndianWriter.Growable(1);
        try
        {
            for (int i = 0; i < 1000; i++)
            {
                g.I32(i);
            }

            Assert.Equal(4000, g.Position);
            var r = new LittleEndianReader(g.Written, static () => new FileSystemCorruptException("x"));
            for (int i = 0; i < 1000; i++)
            {
                Assert.Equal(i, r.I32());
            }

            g.PatchU32(0, 7);
            Assert.Equal(7, BitConverter.ToInt32(g.Written[..4]));
        }
        finally
        {
            g.Dispose();
        }
    }

    [Fact]
    public void Crc32C_matches_the_castagnoli_check_value()
    {
        // The standard check value of CRC-32C over "123456789".
        Assert.Equal(0xE3069283u, Crc32C.Compute("123456789"u8));
        var inc = Crc32C.CreateIncremental();
        inc.Append("1234"u8);
        inc.Append("56789"u8);
        Assert.Equal(0xE3069283u, inc.GetCurrentHashAsUInt32());
    }
}
