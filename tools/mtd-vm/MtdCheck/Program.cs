using Flash.Tests.Mtd;

// MtdCheck NAND_DEVICE [NOR_DEVICE] [--linux-hamming]
// Runs the MTD integration checks (destructive) and prints PASS/FAIL lines and "N passed, M failed".
string nand = args.FirstOrDefault(a => !a.StartsWith("--", StringComparison.Ordinal)) ?? "/dev/mtd0";
string? nor = args.Where(a => !a.StartsWith("--", StringComparison.Ordinal)).Skip(1).FirstOrDefault();
var checks = new MtdChecks(Console.Out) { ExpectLinuxSoftwareHamming = args.Contains("--linux-hamming") };
checks.RunNand(nand);
if (nor is not null)
{
    checks.RunNor(nor);
}

#if FLASH_FFS
Flash.Tools.MtdCheck.FileSystemCheck.Run(checks, nand);
#else
Console.WriteLine("SKIP fs: MtdCheck was built without Flash.Ffs (build with -p:WithFfs=true)");
#endif

Console.WriteLine($"{checks.Passed} passed, {checks.Failures.Count} failed");
return checks.Failures.Count == 0 ? 0 : 1;
