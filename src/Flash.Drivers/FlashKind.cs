namespace Flash.Drivers;

/// <summary>The cell technology of a raw flash device, which decides its programming rules.</summary>
public enum FlashKind
{
    /// <summary>NAND: pages with a spare (OOB) area, a limited number of programs per page, ascending page order within a block.</summary>
    Nand = 0,

    /// <summary>NOR: no spare area, many partial programs per page, any page order.</summary>
    Nor = 1,
}
