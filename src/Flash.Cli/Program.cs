// flashctl: the command-line tool for Flash volumes, packages and redundant device pairs (see docs/cli.md).
return Flash.Cli.FlashCtl.Run(args);
