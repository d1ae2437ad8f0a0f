// Temporary entry point: runs the BenchmarkDotNet suite. The workload runner will replace this file.
using BenchmarkDotNet.Running;

BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
