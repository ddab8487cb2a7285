//! Writing a generated population: rows collected into chunks of [`CHUNK_ROWS`], the datasets
//! of the id columns and of every attribute group, created at their final size and filled chunk
//! by chunk.

#[allow(clippy::wildcard_imports)]
use super::*;

/// Collects rows into chunks of [`CHUNK_ROWS`] and hands each full chunk to the writer.
pub(super) struct RowSink<'p> {
    pub(super) writer: PopulationWriter,
    pub(super) sources: Vec<u64>,
    pub(super) targets: Vec<u64>,
    pub(super) next_row: u64,
    pub(super) progress: &'p mut dyn FnMut(u64),
}

impl<'p> RowSink<'p> {
    pub(super) fn new(writer: PopulationWriter, progress: &'p mut dyn FnMut(u64)) -> Self {
        let rows = CHUNK_ROWS.min(writer.edges as usize);
        RowSink {
            writer,
            sources: Vec::with_capacity(rows),
            targets: Vec::with_capacity(rows),
            next_row: 0,
            progress,
        }
    }

    pub(super) fn push(&mut self, source: u64, target: u64) -> Result<()> {
        self.sources.push(source);
        self.targets.push(target);
        if self.sources.len() == CHUNK_ROWS {
            self.flush()?;
        }
        Ok(())
    }

    pub(super) fn push_run(&mut self, source: u64, target: u64, count: u64) -> Result<()> {
        let mut left = count;
        while left > 0 {
            let n = ((CHUNK_ROWS - self.sources.len()) as u64).min(left) as usize;
            self.sources.extend(std::iter::repeat_n(source, n));
            self.targets.extend(std::iter::repeat_n(target, n));
            left -= n as u64;
            if self.sources.len() == CHUNK_ROWS {
                self.flush()?;
            }
        }
        Ok(())
    }

    pub(super) fn push_target_rows(&mut self, target: u64, sources: &[u64]) -> Result<()> {
        let mut rest = sources;
        while !rest.is_empty() {
            let n = (CHUNK_ROWS - self.sources.len()).min(rest.len());
            self.sources.extend_from_slice(&rest[..n]);
            self.targets.extend(std::iter::repeat_n(target, n));
            rest = &rest[n..];
            if self.sources.len() == CHUNK_ROWS {
                self.flush()?;
            }
        }
        Ok(())
    }

    pub(super) fn flush(&mut self) -> Result<()> {
        if self.sources.is_empty() {
            return Ok(());
        }
        self.writer
            .write_chunk(self.next_row, &self.sources, &self.targets)?;
        self.next_row += self.sources.len() as u64;
        self.sources.clear();
        self.targets.clear();
        (self.progress)(self.next_row);
        Ok(())
    }

    pub(super) fn finish(mut self) -> Result<()> {
        self.flush()?;
        if self.next_row != self.writer.edges {
            // Cannot happen: the in-degrees sum to the edge count by construction.
            return Err(Error::invalid(
                self.writer.at.clone(),
                format!(
                    "generated {} rows instead of {}",
                    self.next_row, self.writer.edges
                ),
            ));
        }
        (self.progress)(self.next_row);
        Ok(())
    }
}

/// An attribute group being written: its columns and the rows written so far.
pub(super) struct GroupWriter {
    pub(super) columns: Vec<(ColumnSpec, hdf5::Dataset)>,
    pub(super) written: u64,
    pub(super) name: String,
}

/// The datasets of one population and the state needed to fill them chunk by chunk.
pub(super) struct PopulationWriter {
    pub(super) at: Location,
    pub(super) edges: u64,
    pub(super) seed: u64,
    pub(super) id_dtype: GeneratedIdDtype,
    pub(super) attributes: AttributeSet,
    pub(super) group_count: u32,
    pub(super) group_seed: u64,
    pub(super) source: hdf5::Dataset,
    pub(super) target: hdf5::Dataset,
    pub(super) edge_type: Option<hdf5::Dataset>,
    pub(super) group_id: Option<hdf5::Dataset>,
    pub(super) group_index: Option<hdf5::Dataset>,
    pub(super) groups: Vec<GroupWriter>,
}

impl PopulationWriter {
    pub(super) fn create(
        file: &hdf5::File,
        name: &str,
        source_population: &str,
        opts: &GenerateOptions,
        seed: u64,
        at: &Location,
    ) -> Result<Self> {
        let edges = opts.edges as usize;
        let group =
            create_untimed_group(file, &format!("{}/{name}", schema::EDGES_GROUP)).at(at)?;
        let id_dataset = |col: &str, population: &str| -> Result<hdf5::Dataset> {
            let col_at = at.dataset(col);
            let ds = match opts.id_dtype {
                GeneratedIdDtype::U64 => {
                    create_id_column::<u64>(&group, col, edges, opts.id_storage)
                }
                GeneratedIdDtype::I64 => {
                    create_id_column::<i64>(&group, col, edges, opts.id_storage)
                }
            }
            .at(&col_at)?;
            write_string_attr(&ds, schema::NODE_POPULATION_ATTR, population).at(&col_at)?;
            Ok(ds)
        };
        let source = id_dataset(schema::SOURCE_NODE_ID, source_population)?;
        let target = id_dataset(schema::TARGET_NODE_ID, "All")?;

        let edge_type = match opts.attributes {
            AttributeSet::None => None,
            AttributeSet::Bbp => Some(create_1d::<i64>(&group, schema::EDGE_TYPE_ID, edges)),
            AttributeSet::Bmtk => Some(create_1d::<u32>(&group, schema::EDGE_TYPE_ID, edges)),
        }
        .transpose()
        .at(&at.dataset(schema::EDGE_TYPE_ID))?;

        let group_seed = stream_seed(seed, STREAM_GROUPS, 0, 0);
        let (group_id, group_index) = if opts.groups > 1 {
            (
                Some(
                    create_1d::<u16>(&group, schema::EDGE_GROUP_ID, edges)
                        .at(&at.dataset(schema::EDGE_GROUP_ID))?,
                ),
                Some(
                    create_1d::<u32>(&group, schema::EDGE_GROUP_INDEX, edges)
                        .at(&at.dataset(schema::EDGE_GROUP_INDEX))?,
                ),
            )
        } else {
            (None, None)
        };

        let mut groups = Vec::new();
        if opts.attributes != AttributeSet::None {
            let rows = group_sizes(opts.edges, opts.groups, group_seed);
            for (k, &n) in rows.iter().enumerate() {
                let gname = k.to_string();
                let g = create_untimed_group(&group, &gname).at(&at.dataset(&gname))?;
                let mut columns = Vec::new();
                for &spec in group_columns(opts.attributes, k as u32) {
                    let path = format!("{gname}/{}", spec.name);
                    let ds = spec
                        .kind
                        .create(&g, spec.name, n as usize)
                        .at(&at.dataset(&path))?;
                    columns.push((spec, ds));
                }
                groups.push(GroupWriter {
                    columns,
                    written: 0,
                    name: gname,
                });
            }
        }

        Ok(PopulationWriter {
            at: at.clone(),
            edges: opts.edges,
            seed,
            id_dtype: opts.id_dtype,
            attributes: opts.attributes,
            group_count: opts.groups,
            group_seed,
            source,
            target,
            edge_type,
            group_id,
            group_index,
            groups,
        })
    }

    /// Writes rows `first .. first + sources.len()` of every column.
    pub(super) fn write_chunk(
        &mut self,
        first: u64,
        sources: &[u64],
        targets: &[u64],
    ) -> Result<()> {
        let start = first as usize;
        let n = sources.len();
        let at = &self.at;
        match self.id_dtype {
            GeneratedIdDtype::U64 => {
                write_rows(&self.source, start, sources).at(&at.dataset(schema::SOURCE_NODE_ID))?;
                write_rows(&self.target, start, targets).at(&at.dataset(schema::TARGET_NODE_ID))?;
            }
            GeneratedIdDtype::I64 => {
                // Ids are below 2^63 (checked by validate), so the bit patterns are equal.
                let s: &[i64] = bytemuck::cast_slice(sources);
                let t: &[i64] = bytemuck::cast_slice(targets);
                write_rows(&self.source, start, s).at(&at.dataset(schema::SOURCE_NODE_ID))?;
                write_rows(&self.target, start, t).at(&at.dataset(schema::TARGET_NODE_ID))?;
            }
        }

        // Group of every row, and the rows of each group in edge order.
        let k = self.group_count;
        let row_groups: Vec<u32> = if k > 1 {
            (0..n as u64)
                .map(|r| group_of(self.group_seed, first + r, k))
                .collect()
        } else {
            Vec::new()
        };

        if let Some(ds) = &self.edge_type {
            let et_at = at.dataset(schema::EDGE_TYPE_ID);
            match self.attributes {
                AttributeSet::Bmtk => {
                    let v: Vec<u32> = if k > 1 {
                        row_groups.iter().map(|&g| 100 + g).collect()
                    } else {
                        vec![100; n]
                    };
                    write_rows(ds, start, &v).at(&et_at)?;
                }
                _ => write_rows(ds, start, &vec![0i64; n]).at(&et_at)?,
            }
        }

        if let (Some(gid), Some(gidx)) = (&self.group_id, &self.group_index) {
            let ids: Vec<u16> = row_groups.iter().map(|&g| g as u16).collect();
            let mut next: Vec<u64> = self.groups.iter().map(|g| g.written).collect();
            let mut index = Vec::with_capacity(n);
            for &g in &row_groups {
                let slot = &mut next[g as usize];
                // edge_group_index is uint32; a group cannot exceed 2^32 rows there.
                index.push(u32::try_from(*slot).map_err(|_| {
                    Error::InvalidArgument(format!(
                        "attribute group {g} would exceed 2^32 rows, which uint32 \
                         edge_group_index cannot address; use more groups"
                    ))
                })?);
                *slot += 1;
            }
            write_rows(gid, start, &ids).at(&at.dataset(schema::EDGE_GROUP_ID))?;
            write_rows(gidx, start, &index).at(&at.dataset(schema::EDGE_GROUP_INDEX))?;
        }

        let chunk_no = first / CHUNK_ROWS as u64;
        // The "source is inhibitory" flag of the rows of each group, in edge order.
        let mut flags: Vec<Vec<bool>> = vec![Vec::new(); self.groups.len()];
        if k > 1 {
            for (&s, &g) in sources.iter().zip(&row_groups) {
                if let Some(f) = flags.get_mut(g as usize) {
                    f.push(is_inhibitory(s));
                }
            }
        } else if let Some(f) = flags.first_mut() {
            f.extend(sources.iter().map(|&s| is_inhibitory(s)));
        }
        for ((gi, group), inhibitory) in self.groups.iter_mut().enumerate().zip(flags) {
            if inhibitory.is_empty() {
                continue;
            }
            let seed = self.seed;
            let values: Vec<Values> = group
                .columns
                .par_iter()
                .enumerate()
                .map(|(j, (spec, _))| {
                    let mut rng = StdRng::seed_from_u64(stream_seed(
                        seed,
                        STREAM_ATTRIBUTES,
                        chunk_no,
                        (gi as u64) << 32 | j as u64,
                    ));
                    spec.kind.draw(&mut rng, &inhibitory)
                })
                .collect();
            let offset = group.written as usize;
            for ((spec, ds), v) in group.columns.iter().zip(&values) {
                v.write(ds, offset)
                    .at(&at.dataset(&format!("{}/{}", group.name, spec.name)))?;
            }
            group.written += inhibitory.len() as u64;
        }
        Ok(())
    }
}

/// Rows per attribute group: all rows in group 0 for one group, else counted over the edge ids.
pub(super) fn group_sizes(edges: u64, groups: u32, group_seed: u64) -> Vec<u64> {
    if groups <= 1 {
        return vec![edges];
    }
    let step = CHUNK_ROWS as u64;
    let chunks = edges.div_ceil(step);
    (0..chunks)
        .into_par_iter()
        .map(|c| {
            let mut counts = vec![0u64; groups as usize];
            for e in c * step..((c + 1) * step).min(edges) {
                counts[group_of(group_seed, e, groups) as usize] += 1;
            }
            counts
        })
        .reduce(
            || vec![0u64; groups as usize],
            |mut a, b| {
                a.iter_mut().zip(b).for_each(|(x, y)| *x += y);
                a
            },
        )
}

/// Creates a contiguous (not chunked) 1-D dataset of `rows` elements.
pub(super) fn create_1d<T: H5Type>(
    group: &hdf5::Group,
    name: &str,
    rows: usize,
) -> hdf5::Result<hdf5::Dataset> {
    group.new_dataset::<T>().no_chunk().shape(rows).create(name)
}

/// Creates an id column of `rows` rows stored as `storage` says; contiguous when `rows` is 0
/// (a chunk has at least one row, and no more than a fixed-size dataset's).
fn create_id_column<T: H5Type>(
    group: &hdf5::Group,
    name: &str,
    rows: usize,
    storage: IdStorage,
) -> hdf5::Result<hdf5::Dataset> {
    let Some(chunk) = storage.chunk_rows().filter(|_| rows > 0) else {
        return create_1d::<T>(group, name, rows);
    };
    // Validated: 1 <= chunk < 2^29.
    let builder = group.new_dataset::<T>().chunk((chunk as usize).min(rows));
    let builder = match storage {
        IdStorage::Deflate { .. } => builder.deflate(DEFLATE_LEVEL),
        // Shuffle first, as h5py orders them.
        IdStorage::ShuffleDeflate { .. } => builder.shuffle().deflate(DEFLATE_LEVEL),
        IdStorage::Contiguous | IdStorage::Chunked { .. } => builder,
    };
    builder.shape(rows).create(name)
}

/// Writes `data` into rows `start .. start + data.len()` of the 1-D dataset `ds`.
pub(super) fn write_rows<T: H5Type>(
    ds: &hdf5::Dataset,
    start: usize,
    data: &[T],
) -> hdf5::Result<()> {
    if data.is_empty() {
        return Ok(());
    }
    ds.as_writer().write_slice(data, start..start + data.len())
}

/// Writes a scalar variable-length UTF-8 string attribute (as h5py writes `str` values).
pub(super) fn write_string_attr(obj: &hdf5::Location, name: &str, value: &str) -> hdf5::Result<()> {
    let value: VarLenUnicode = value
        .parse()
        .map_err(|e| hdf5::Error::from(format!("invalid string attribute: {e}")))?;
    obj.new_attr::<VarLenUnicode>()
        .create(name)?
        .write_scalar(&value)
}
