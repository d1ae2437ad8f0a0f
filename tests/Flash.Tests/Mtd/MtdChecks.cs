using Flash.Drivers;
using Flash.Drivers.Ecc;
using Flash.Drivers.Mtd;

namespace Flash.Tests.Mtd;

/// <summary>
/// Integration checks against a real Linux MTD device, shared by the xunit test (when FLASH_MTD_DEVICE names a
/// device) and the NativeAOT MtdCheck program the VM script runs. Destructive: the device's content is lost.
/// Every check prints one "PASS name" or "FAIL name: reason" line.
/// </summary>
public sealed class MtdChecks(TextWriter log)
{
    private readonly List<string> _failures = [];

    public int Passed { get; private set; }

    public IReadOnlyList<string> Failures => _failures;

    /// <summary>Also check that the kernel's ECC is Linux's software Hamming (3 bytes per 256 B at 40 + 3s), as on nandsim.</summary>
    public bool ExpectLinuxSoftwareHamming { get; init; }

    public void Check(string name, Action action)
    {
        try
        {
            action();
            Passed++;
            log.WriteLine($"PASS {name}");
        }
        catch (Exception e)
        {
            _failures.Add($"{name}: {e.GetType().Name}: {e.Message}");
            log.WriteLine($"FAIL {name}: {e.GetType().Name}: {e.Message}");
        }

        log.Flush();
    }

    private static void Require(bool condition, string message)
    {
        if (!condition)
        {
            throw new InvalidOperationException(message);
        }
    }

    private static void Expect<T>(Action action, string what)
        where T : Exception
    {
        try
        {
            action();
        }
        catch (T)
        {
            return;
        }

        throw new InvalidOperationException($"{what}: expected {typeof(T).Name}, nothing was thrown");
    }

    private static byte[] Random(int length, int seed)
    {
        var b = new byte[length];
        new Random(seed).NextBytes(b);
        return b;
    }

    private static byte[] Erased(int length)
    {
        var b = new byte[length];
        Array.Fill(b, (byte)0xFF);
        return b;
    }

    /// <summary>Good blocks counted from the end of the device (the tests leave the start for the file system).</summary>
    private static int[] GoodBlocksFromEnd(IFlashDevice dev, int count)
    {
        var blocks = new List<int>();
        for (int b = dev.Geometry.BlockCount - 1; b >= 0 && blocks.Count < count; b--)
        {
            if (!dev.IsBad(b))
            {
                blocks.Add(b);
            }
        }

        Require(blocks.Count == count, $"fewer than {count} good blocks");
        return [.. blocks];
    }

    /// <summary>The NAND checks: geometry, round trip, OOB, kernel ECC, software ECC over raw access, bad blocks, errors.</summary>
    public void RunNand(string path)
    {
        MtdDevice? opened = null;
        Check("nand: open and geometry", () =>
        {
            opened = MtdDevice.Open(path);
            var g = opened.Geometry;
            log.WriteLine($"  {path}: {opened.Type}, flags 0x{opened.Flags:X}, {g}, free spare {g.SpareFreeOffset}+{g.SpareFreeLength}");
            Require(g.Kind == FlashKind.Nand, "not NAND");
            Require(g.SpareSize > 0 && g.SpareFreeOffset >= 2 && g.SpareFreeLength > 0, "no free spare bytes after the bad-block marker");
            Require(g.BlockSize * (long)g.BlockCount == g.TotalBytes, "sizes do not add up");
            if (ExpectLinuxSoftwareHamming)
            {
                Require(g.SpareFreeOffset == 2 && g.SpareFreeLength == 38, $"free spare {g.SpareFreeOffset}+{g.SpareFreeLength}, Linux Hamming layout has 2+38");
            }
        });
        if (opened is null)
        {
            return;
        }

        using var dev = opened;
        var g = dev.Geometry;
        int[] blocks = GoodBlocksFromEnd(dev, 5);

        Check("nand: erase, program, read round trip with spare", () =>
        {
            int b = blocks[0];
            dev.Erase(b);
            int first = g.FirstPageOf(b);
            var read = new byte[g.PageSize];
            var spare = new byte[g.SpareSize];
            Require(dev.Read(first, read, spare) == ReadResult.Clean, "erased page not clean");
            Require(read.All(x => x == 0xFF) && spare.All(x => x == 0xFF), "erased page not all 0xFF");
            for (int p = 0; p < 4; p++)
            {
                var data = Random(g.PageSize, p);
                var tags = Erased(g.SpareSize);
                Random(g.SpareFreeLength, 100 + p).CopyTo(tags, g.SpareFreeOffset);
                dev.Program(first + p, data, tags);
            }

            for (int p = 0; p < 4; p++)
            {
                var result = dev.Read(first + p, read, spare);
                Require(result.Status == EccStatus.Clean, $"page {p}: {result}");
                Require(read.AsSpan().SequenceEqual(Random(g.PageSize, p)), $"page {p}: data differs");
                Require(spare.AsSpan(g.SpareFreeOffset, g.SpareFreeLength).SequenceEqual(Random(g.SpareFreeLength, 100 + p)), $"page {p}: free spare bytes differ");
                Require(spare[0] == 0xFF, "bad-block marker byte changed");
            }
        });

        Check("nand: spare-only read and program", () =>
        {
            int first = g.FirstPageOf(blocks[0]);
            var spare = new byte[g.SpareSize];
            dev.Read(first + 1, default, spare);
            Require(spare.AsSpan(g.SpareFreeOffset, g.SpareFreeLength).SequenceEqual(Random(g.SpareFreeLength, 101)), "OOB-only read differs");
            var tags = Erased(g.SpareSize);
            tags[g.SpareFreeOffset] = 0x5A;
            dev.Program(first + 10, default, tags);
            dev.Read(first + 10, default, spare);
            Require(spare[g.SpareFreeOffset] == 0x5A, "OOB-only program not read back");
        });

        if (ExpectLinuxSoftwareHamming)
        {
            Check("nand: kernel ECC bytes equal Flash's HammingEcc (40 + 3s)", () =>
            {
                using var raw = MtdDevice.Open(path, new MtdDeviceOptions { Raw = true });
                int first = g.FirstPageOf(blocks[0]);
                var spare = new byte[g.SpareSize];
                var code = new HammingEcc(256);
                var ecc = new byte[3];
                for (int p = 0; p < 4; p++)
                {
                    raw.Read(first + p, default, spare);
                    var data = Random(g.PageSize, p);
                    for (int s = 0; s < g.PageSize / 256; s++)
                    {
                        code.Calculate(data.AsSpan(s * 256, 256), ecc);
                        Require(spare.AsSpan(40 + (3 * s), 3).SequenceEqual(ecc),
                            $"page {p} step {s}: kernel {Convert.ToHexString(spare, 40 + (3 * s), 3)}, Flash {Convert.ToHexString(ecc)}");
                    }
                }
            });

            Check("nand: page written raw with Flash's Hamming reads clean through the kernel", () =>
            {
                int b = blocks[1];
                dev.Erase(b);
                using var raw = MtdDevice.Open(path, new MtdDeviceOptions { Raw = true });
                using var soft = new EccDevice(raw, new HammingEcc(256));
                Require(soft.EccOffset == 40, $"ECC offset {soft.EccOffset}");
                var data = Random(g.PageSize, 7);
                soft.Program(g.FirstPageOf(b), data, default);
                var read = new byte[g.PageSize];
                var result = dev.Read(g.FirstPageOf(b), read, default);
                Require(result.Status == EccStatus.Clean, $"kernel read {result}");
                Require(read.AsSpan().SequenceEqual(data), "kernel read different data");
            });

            Check("nand: kernel corrects a 1-bit error and reports 2 bits uncorrectable (ECCGETSTATS)", () =>
            {
                int b = blocks[1];
                int page = g.FirstPageOf(b) + 1;
                using var raw = MtdDevice.Open(path, new MtdDeviceOptions { Raw = true });
                var code = new HammingEcc(256);
                var data = Random(g.PageSize, 8);
                var spare = Erased(g.SpareSize);
                for (int s = 0; s < g.PageSize / 256; s++)
                {
                    code.Calculate(data.AsSpan(s * 256, 256), spare.AsSpan(40 + (3 * s), 3));
                }

                var flipped = (byte[])data.Clone();
                flipped[300] ^= 0x10;
                raw.Program(page, flipped, spare);
                var before = dev.GetEccCounters();
                var read = new byte[g.PageSize];
                var result = dev.Read(page, read, default);
                Require(result.Status == EccStatus.Corrected && result.CorrectedBits == 1, $"1 flip: {result}");
                Require(read.AsSpan().SequenceEqual(data), "1 flip: data not corrected");
                Require(dev.GetEccCounters().Corrected == before.Corrected + 1, "ECCGETSTATS corrected did not grow by 1");

                flipped[600] ^= 0x01;
                flipped[601] ^= 0x80;
                raw.Program(page + 1, flipped, spare);
                result = dev.Read(page + 1, read, default);
                Require(result.Status == EccStatus.Uncorrectable, $"2 flips in one step: {result}");
            });
        }

        Check("nand: software BCH over raw access corrects t and reports t+1", () =>
        {
            int b = blocks[2];
            using var raw = MtdDevice.Open(path, new MtdDeviceOptions { Raw = true });
            raw.Erase(b);
            var code = new BchEcc(4);
            using var soft = new EccDevice(raw, code);
            var data = Random(g.PageSize, 9);
            int first = g.FirstPageOf(b);
            soft.Program(first, data, default);
            var read = new byte[g.PageSize];
            Require(soft.Read(first, read, default) == ReadResult.Clean, "clean page not clean");
            Require(read.AsSpan().SequenceEqual(data), "data differs");

            // Store the codes of the true data next to data with 4, then 5, flipped bits in step 0.
            var spare = new byte[g.SpareSize];
            raw.Read(first, default, spare);
            for (int flips = 4; flips <= 5; flips++)
            {
                var bad = (byte[])data.Clone();
                for (int i = 0; i < flips; i++)
                {
                    bad[i * 97] ^= (byte)(1 << i);
                }

                raw.Program(first + flips - 3, bad, spare);
                var result = soft.Read(first + flips - 3, read, default);
                if (flips == 4)
                {
                    Require(result.Status == EccStatus.Corrected && result.CorrectedBits == 4, $"4 flips: {result}");
                    Require(read.AsSpan().SequenceEqual(data), "4 flips: data not corrected");
                }
                else
                {
                    Require(result.Status == EccStatus.Uncorrectable, $"5 flips: {result}");
                }
            }
        });

        Check("nand: bad-block marking persists and guards program and erase", () =>
        {
            int b = blocks[4];
            Require(!dev.IsBad(b), "block already bad");
            dev.MarkBad(b);
            Require(dev.IsBad(b), "not bad after marking");
            using (var again = MtdDevice.Open(path, new MtdDeviceOptions { ReadOnly = true }))
            {
                Require(again.IsBad(b), "not bad on a new handle");
                Require(again.GetEccCounters().BadBlocks >= 1, "ECCGETSTATS reports no bad block");
            }

            Expect<BadBlockException>(() => dev.Erase(b), "erase of a bad block");
            Expect<BadBlockException>(() => dev.Program(g.FirstPageOf(b), new byte[g.PageSize], default), "program of a bad block");
        });

        Check("nand: errors are specific", () =>
        {
            using (var ro = MtdDevice.Open(path, new MtdDeviceOptions { ReadOnly = true }))
            {
                Expect<MtdReadOnlyException>(() => ro.Program(0, new byte[g.PageSize], default), "program on a read-only handle");
                Expect<MtdReadOnlyException>(() => ro.Erase(0), "erase on a read-only handle");
            }

            string roNode = path + "ro";
            if (File.Exists(roNode))
            {
                Expect<MtdReadOnlyException>(() => MtdDevice.Open(roNode).Dispose(), $"read-write open of {roNode}");
            }

            Expect<MtdNotMtdDeviceException>(() => MtdDevice.Open("/dev/null").Dispose(), "open of /dev/null");
            Expect<ArgumentException>(() => dev.Read(0, new byte[100], default), "read with a 100-byte buffer");
            Expect<ArgumentOutOfRangeException>(() => dev.Read(g.PageCount, new byte[g.PageSize], default), "read past the end");
        });
    }

    /// <summary>The NOR/RAM checks (mtdram): geometry, erase, program, partial programs, read.</summary>
    public void RunNor(string path)
    {
        Check("nor: open, erase, program, partial program, read", () =>
        {
            using var dev = MtdDevice.Open(path);
            var g = dev.Geometry;
            log.WriteLine($"  {path}: {dev.Type}, flags 0x{dev.Flags:X}, {g}");
            Require(g.Kind == FlashKind.Nor && g.SpareSize == 0, "not NOR-like");
            int b = g.BlockCount - 1;
            dev.Erase(b);
            int page = g.FirstPageOf(b) + 1;
            var read = new byte[g.PageSize];
            dev.Read(page, read, default);
            Require(read.All(x => x == 0xFF), "erased page not 0xFF");
            var first = Random(g.PageSize, 1);
            var second = Random(g.PageSize, 2);
            dev.Program(page, first, default);
            dev.Program(page, second, default);
            dev.Read(page, read, default);
            for (int i = 0; i < read.Length; i++)
            {
                Require(read[i] == (first[i] & second[i]), $"byte {i}: {read[i]:X2}, expected {first[i] & second[i]:X2} (programs only clear bits)");
            }

            dev.Erase(b);
            dev.Read(page, read, default);
            Require(read.All(x => x == 0xFF), "page not erased");
        });
    }
}
