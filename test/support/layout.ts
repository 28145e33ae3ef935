import { rectToQuad } from '../../stages/shared/geometry.ts';
import type { Quad } from '../../stages/shared/types.ts';

/**
 * The box of line `row` of a column of 1000 x 30 px lines, 40 px apart, turned `degrees` clockwise
 * (y down) about the first line's centre at (600, 200): each line then runs 52 px down or up over
 * its length at 3 degrees, more than the spacing, and starts 2 px left or right of the one above.
 */
export function tiltedColumnLine(row: number, degrees: number): Quad {
  const angle = (degrees * Math.PI) / 180;
  return rectToQuad({
    cx: 600 - row * 40 * Math.sin(angle),
    cy: 200 + row * 40 * Math.cos(angle),
    width: 1000,
    height: 30,
    angle,
  });
}
