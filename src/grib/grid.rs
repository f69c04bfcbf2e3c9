//! Latitudes and longitudes of a grid, in the order the field's values are stored.
//!
//! Regular lat/lon grids step from the first point by the increments (or, when the grid
//! omits them, by the span over the point count); Gaussian latitudes are the roots of the
//! Legendre polynomial of degree 2N, found by Newton's method, which agree with ecCodes'
//! to about 1e-12 degrees.

use super::sections::{Grid, GridKind};

/// The latitude of each row (`Nj` values), in stored order.
///
/// # Errors
/// A Gaussian grid whose first latitude is not one of its `2N` latitudes, or whose rows run
/// past the pole.
pub fn latitudes(grid: &Grid) -> Result<Vec<f64>, String> {
    let nj = grid.nj as usize;
    let sign = if grid.j_positive() { 1.0 } else { -1.0 };
    match grid.kind {
        GridKind::RegularLatLon => {
            let step = grid
                .dj
                .map_or_else(|| span_step(grid.lat1, grid.lat2, nj), |dj| sign * dj);
            Ok((0..nj).map(|j| grid.lat1 + j as f64 * step).collect())
        }
        GridKind::RegularGaussian { n } => {
            let mut all = gaussian_latitudes(n as usize); // north to south
            if grid.j_positive() {
                all.reverse();
            }
            let first = all
                .iter()
                .position(|&lat| (lat - grid.lat1).abs() < 1e-3)
                .ok_or_else(|| {
                    format!(
                        "the first latitude {} is not a latitude of the Gaussian grid N{n}",
                        grid.lat1
                    )
                })?;
            all.get(first..first + nj)
                .map(<[f64]>::to_vec)
                .ok_or_else(|| {
                    format!(
                        "{nj} rows from latitude {} run past the pole of Gaussian grid N{n}",
                        grid.lat1
                    )
                })
        }
    }
}

/// The longitude of each column (`Ni` values), in stored order.
#[must_use]
pub fn longitudes(grid: &Grid) -> Vec<f64> {
    let ni = grid.ni as usize;
    let sign = if grid.i_negative() { -1.0 } else { 1.0 };
    // As ecCodes: a grid that crosses the meridian of its first longitude's wrap (first 340,
    // last 40) starts at the negative longitude (-20).
    let mut lon1 = grid.lon1;
    if !grid.i_negative() && lon1 > grid.lon2 {
        lon1 -= 360.0;
    }
    let step = grid
        .di
        .map_or_else(|| span_step(lon1, grid.lon2, ni), |di| sign * di);
    (0..ni).map(|i| lon1 + i as f64 * step).collect()
}

/// The step that spans `first..=last` in `n` points.
fn span_step(first: f64, last: f64, n: usize) -> f64 {
    if n > 1 {
        (last - first) / (n - 1) as f64
    } else {
        0.0
    }
}

/// The `2n` Gaussian latitudes in degrees, north to south.
#[must_use]
pub fn gaussian_latitudes(n: usize) -> Vec<f64> {
    let degree = 2 * n;
    let mut north = Vec::with_capacity(n);
    for k in 1..=n {
        // Initial guess (Tricomi), then Newton on P_degree(cos theta).
        let theta = std::f64::consts::PI * (4.0 * k as f64 - 1.0) / (4.0 * degree as f64 + 2.0);
        let mut x = theta.cos();
        for _ in 0..100 {
            let (p, dp) = legendre(degree, x);
            let dx = p / dp;
            x -= dx;
            if dx.abs() < 1e-15 {
                break;
            }
        }
        north.push(x.asin().to_degrees());
    }
    let south: Vec<f64> = north.iter().rev().map(|lat| -lat).collect();
    north.extend(south);
    north
}

/// `P_n(x)` and its derivative, by the three-term recurrence.
fn legendre(n: usize, x: f64) -> (f64, f64) {
    let (mut p0, mut p1) = (1.0, x);
    for k in 2..=n {
        let k = k as f64;
        let p2 = ((2.0 * k - 1.0) * x * p1 - (k - 1.0) * p0) / k;
        p0 = p1;
        p1 = p2;
    }
    let dp = n as f64 * (x * p1 - p0) / (x * x - 1.0);
    (p1, dp)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gaussian_n1_is_plus_minus_35_26() {
        // P_2 roots: x = ±1/sqrt(3), latitude asin(1/sqrt(3)) = 35.2643896828 degrees.
        let lats = gaussian_latitudes(1);
        assert_eq!(lats.len(), 2);
        assert!((lats[0] - 35.264_389_682_754_654).abs() < 1e-12, "{lats:?}");
        assert!((lats[1] + lats[0]).abs() < 1e-15);
    }

    #[test]
    fn gaussian_latitudes_are_symmetric_and_decreasing() {
        let lats = gaussian_latitudes(48);
        assert_eq!(lats.len(), 96);
        assert!(lats.windows(2).all(|w| w[0] > w[1]));
        assert!((lats[0] - 88.572_168_514_007).abs() < 1e-9, "{}", lats[0]);
    }
}
