using System.Diagnostics;
using Flash.Drivers.Mtd;

namespace Flash.Tests.Mtd;

/// <summary>Checks the driver's struct sizes, field offsets and ioctl numbers against the kernel's own MTD headers.</summary>
public class MtdAbiTests
{
    private const string Probe = """
        #include <stdio.h>
        #include <stddef.h>
        #include <sys/ioctl.h>
        #include <mtd/mtd-abi.h>
        #define S(t) printf("sizeof_%s %lu\n", #t, (unsigned long)sizeof(struct t));
        #define O(t, f) printf("offsetof_%s_%s %lu\n", #t, #f, (unsigned long)offsetof(struct t, f));
        #define V(x) printf("%s %lu\n", #x, (unsigned long)(x));
        int main(void)
        {
            S(mtd_info_user) O(mtd_info_user, type) O(mtd_info_user, flags) O(mtd_info_user, size)
            O(mtd_info_user, erasesize) O(mtd_info_user, writesize) O(mtd_info_user, oobsize)
            S(erase_info_user64) O(erase_info_user64, start) O(erase_info_user64, length)
            S(mtd_oob_buf64) O(mtd_oob_buf64, start) O(mtd_oob_buf64, length) O(mtd_oob_buf64, usr_ptr)
            S(mtd_write_req) O(mtd_write_req, start) O(mtd_write_req, len) O(mtd_write_req, ooblen)
            O(mtd_write_req, usr_data) O(mtd_write_req, usr_oob) O(mtd_write_req, mode)
            S(mtd_ecc_stats) O(mtd_ecc_stats, corrected) O(mtd_ecc_stats, failed) O(mtd_ecc_stats, badblocks)
            O(mtd_ecc_stats, bbtblocks)
            S(nand_ecclayout_user) O(nand_ecclayout_user, oobavail) O(nand_ecclayout_user, oobfree)
            V(MEMGETINFO) V(MEMGETBADBLOCK) V(MEMSETBADBLOCK) V(ECCGETLAYOUT) V(ECCGETSTATS) V(MTDFILEMODE)
            V(MEMERASE64) V(MEMWRITEOOB64) V(MEMREADOOB64) V(MEMWRITE)
            V(MTD_NANDFLASH) V(MTD_NORFLASH) V(MTD_RAM) V(MTD_MLCNANDFLASH)
            V(MTD_WRITEABLE) V(MTD_BIT_WRITEABLE) V(MTD_NO_ERASE)
            V(MTD_OPS_PLACE_OOB) V(MTD_OPS_AUTO_OOB) V(MTD_OPS_RAW)
            V(MTD_FILE_MODE_NORMAL) V(MTD_FILE_MODE_RAW)
            return 0;
        }
        """;

    private static string? FindCompiler()
    {
        foreach (string dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator))
        {
            foreach (string name in new[] { "cc", "gcc", "clang" })
            {
                string candidate = Path.Combine(dir, name);
                if (File.Exists(candidate))
                {
                    return candidate;
                }
            }
        }

        return null;
    }

    private static (int Exit, string Output) Run(string file, params string[] args)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string a in args)
        {
            psi.ArgumentList.Add(a);
        }

        using var p = Process.Start(psi)!;
        string stdout = p.StandardOutput.ReadToEnd();
        string stderr = p.StandardError.ReadToEnd();
        p.WaitForExit();
        return (p.ExitCode, stdout + stderr);
    }

    [Fact]
    public void Sizes_offsets_and_ioctl_numbers_match_the_kernel_headers()
    {
        Assert.SkipUnless(OperatingSystem.IsLinux(), "The MTD ABI exists on Linux only.");
        string? cc = FindCompiler();
        Assert.SkipWhen(cc is null, "No C compiler (cc, gcc or clang) on PATH: the MTD ABI probe is skipped.");

        string dir = Directory.CreateTempSubdirectory("flash-mtd-abi-").FullName;
        try
        {
            string source = Path.Combine(dir, "probe.c");
            string binary = Path.Combine(dir, "probe");
            File.WriteAllText(source, Probe);
            var (exit, output) = Run(cc!, "-o", binary, source);
            Assert.SkipWhen(exit != 0 && output.Contains("mtd-abi.h: No such file", StringComparison.Ordinal),
                "The kernel MTD headers (<mtd/mtd-abi.h>, Debian package linux-libc-dev) are not installed: the ABI probe is skipped.");
            Assert.True(exit == 0, "The probe did not compile: " + output);

            var (runExit, values) = Run(binary);
            Assert.Equal(0, runExit);
            var kernel = values.Split('\n', StringSplitOptions.RemoveEmptyEntries)
                .Select(line => line.Split(' '))
                .ToDictionary(parts => parts[0], parts => long.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture));

            var ours = MtdAbi.Values();
            Assert.Equal(kernel.Count, ours.Count);
            foreach (var (name, value) in ours)
            {
                Assert.True(kernel.TryGetValue(name, out long expected), $"The probe does not print {name}.");
                Assert.True(expected == value, $"{name}: the kernel headers say {expected} (0x{expected:X}), the driver uses {value} (0x{value:X}).");
            }
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
