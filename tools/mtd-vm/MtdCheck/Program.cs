using Flash.Tests.Mtd;

// MtdCheck NAND_DEVICE [NOR_DEVICE] [--linux-hamming]
// Runs the MTD integration checks (destructive) and prints PASS/FAIL lines and "N passed, M failed".
// MtdCheck --write-ecc-image IMAGE | --verify-ecc-image IMAGE DUMP
// The two ends of the saved-image round trip through nandwrite/nanddump (EccImageCheck; needs the file-system step).
if (args.Length > 0 && args[0] is "--write-ecc-image" or "--verify-ecc-image")
{
#if FLASH_FFS
    var step = new MtdChecks(Console.Out);
    if (args[0] == "--write-ecc-image" && args.Length == 2)
    {
        Flash.Tools.MtdCheck.EccImageCheck.Write(step, args[1]);
    }
    else if (args.Length == 3)
    {
        Flash.Tools.MtdCheck.EccImageCheck.Verify(step, args[1], args[2]);
    }
    else
    {
        Console.Error.WriteLine("usage: MtdCheck --write-ecc-image IMAGE | --verify-ecc-image IMAGE DUMP");
        return 2;
    }

    return step.Failures.Count == 0 ? 0 : 1;
#else
    Console.WriteLine("SKIP ecc-image: MtdCheck was built without Flash.Ffs (build with -p:WithFfs=true)");
    return 3;
#endif
}

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
