"""Column definitions of the ten extracts (copy of extracts.md / checks/contracts; the
generator must not depend on other parts of the tree at run time)."""

SOURCES = {
    'civil_affairs_households': [
        ('household_id', '家庭编号', 'text', True, (), ('家庭编码', '户编号', '家庭ID', '救助家庭编号'), False),
        ('region_code', '行政区划代码', 'region_code', True, (), ('区划代码', '行政区划', '行政区划编码', '所属区划代码', '区划编码'), False),
        ('urban_rural', '城乡类别', 'enum', True, ('城市', '农村'), ('城乡属性', '城乡', '城乡分类'), False),
        ('assistance_type', '救助类别', 'enum', True, ('低保', '特困', '低保边缘', '支出型困难'), ('保障类别', '救助类型', '保障类型'), False),
        ('since_month', '保障开始月份', 'month', True, (), ('保障起始月份', '开始保障月份', '纳入月份'), False),
        ('gradual_exit_since', '渐退开始月份', 'month', False, (), ('渐退起始月份', '渐退月份'), False),
        ('monthly_benefit', '月保障金额', 'amount', True, (), ('保障金额', '月保障金', '月救助金额', '救助金额'), False),
        ('other_income', '家庭其他月收入', 'amount', True, (), ('其他月收入', '家庭其他收入'), False),
        ('financial_assets', '家庭金融资产', 'amount', False, (), ('金融资产', '家庭金融资产总额'), False),
        ('last_review_date', '上次核查日期', 'date', True, (), ('最近核查日期', '上次复核日期', '核查日期'), False),
    ],
    'civil_affairs_members': [
        ('household_id', '家庭编号', 'text', True, (), ('家庭编码', '户编号', '家庭ID', '救助家庭编号'), False),
        ('id_number', '公民身份号码', 'id', True, (), ('身份证号', '身份证号码', '证件号码', '公民身份证号码', '身份证'), False),
        ('name', '姓名', 'name', True, (), ('成员姓名', '名字'), False),
        ('relation', '与户主关系', 'enum', True, ('户主', '配偶', '子女', '父母', '孙子女', '其他'), ('家庭关系', '与户主关系名称'), False),
        ('disability_type', '残疾类别', 'enum', False, ('视力', '听力', '言语', '肢体', '智力', '精神', '多重'), ('残疾类型',), False),
        ('disability_level', '残疾等级', 'enum', False, ('一级', '二级', '三级', '四级'), ('残疾级别',), False),
        ('labor_capacity', '劳动能力', 'enum', True, ('有', '部分', '无'), ('劳动能力状况', '是否有劳动能力'), False),
    ],
    'household_registration': [
        ('id_number', '公民身份号码', 'id', True, (), ('身份证号', '身份证号码', '证件号码', '公民身份证号码', '身份证'), False),
        ('name', '姓名', 'name', True, (), ('名字',), False),
        ('hukou_id', '户号', 'text', True, (), ('户籍户号', '户口号'), False),
        ('relation', '与户主关系', 'enum', True, ('户主', '配偶', '子女', '父母', '孙子女', '其他'), ('家庭关系',), False),
        ('region_code', '行政区划代码', 'region_code', True, (), ('区划代码', '行政区划', '行政区划编码', '所属区划代码', '区划编码'), False),
        ('urban_rural', '城乡类别', 'enum', True, ('城市', '农村'), ('城乡属性', '城乡', '户口性质'), False),
        ('status', '户籍状态', 'enum', True, ('正常', '死亡注销', '迁出'), ('人口状态', '状态'), False),
    ],
    'education': [
        ('id_number', '公民身份号码', 'id', True, (), ('身份证号', '身份证号码', '证件号码', '公民身份证号码', '学生身份证号'), False),
        ('name', '姓名', 'name', True, (), ('学生姓名',), False),
        ('stage', '学段', 'enum', True, ('学前', '小学', '初中', '高中', '中职', '高校'), ('就读学段',), False),
        ('school', '学校名称', 'text', True, (), ('学校', '就读学校'), False),
        ('enrollment_status', '学籍状态', 'enum', True, ('在读', '休学', '辍学', '毕业'), ('在学状态',), False),
        ('annual_fees', '学年费用', 'amount', True, (), ('学年费用合计', '年度费用'), False),
        ('aid_received', '已获资助', 'amount', True, (), ('已获资助金额', '资助金额'), False),
    ],
    'hr': [
        ('id_number', '公民身份号码', 'id', True, (), ('身份证号', '身份证号码', '证件号码', '公民身份证号码'), False),
        ('name', '姓名', 'name', True, (), ('名字',), False),
        ('employment_status', '就业状态', 'enum', True, ('就业', '灵活就业', '失业登记', '退休', '未就业'), ('就业情况',), False),
        ('monthly_wage', '月工资', 'amount', False, (), ('月工资收入', '工资'), False),
        ('monthly_pension', '月养老金', 'amount', False, (), ('养老金', '月养老金额'), False),
        ('monthly_unemployment_benefit', '月失业保险金', 'amount', False, (), ('失业保险金', '月失业金'), False),
    ],
    'housing': [
        ('id_number', '公民身份号码', 'id', True, (), ('身份证号', '身份证号码', '证件号码', '公民身份证号码'), False),
        ('name', '姓名', 'name', True, (), ('名字',), False),
        ('property_count', '房产套数', 'integer', True, (), ('房产数量', '住房套数'), False),
        ('provident_fund_monthly', '公积金月缴存额', 'amount', False, (), ('公积金月缴额', '公积金缴存额'), False),
        ('public_rental', '公租房', 'enum', True, ('是', '否'), ('是否公租房', '是否承租公租房'), False),
        ('dangerous_house_grade', '危房等级', 'enum', False, ('A', 'B', 'C', 'D'), ('危房鉴定等级', '房屋安全等级'), False),
    ],
    'health': [
        ('id_number', '公民身份号码', 'id', True, (), ('身份证号', '身份证号码', '证件号码', '公民身份证号码'), False),
        ('name', '姓名', 'name', True, (), ('名字',), False),
        ('event_type', '事件类型', 'enum', True, ('重大疾病', '慢性病', '死亡'), ('类型',), False),
        ('diagnosis', '疾病名称', 'text', False, (), ('诊断', '诊断名称'), False),
        ('event_date', '事件日期', 'date', True, (), ('发生日期', '日期'), True),
    ],
    'medical_insurance': [
        ('id_number', '公民身份号码', 'id', True, (), ('身份证号', '身份证号码', '证件号码', '公民身份证号码'), False),
        ('name', '姓名', 'name', True, (), ('名字', '参保人姓名'), False),
        ('settlement_date', '结算日期', 'date', True, (), ('结算时间',), True),
        ('total_cost', '医疗总费用', 'amount', True, (), ('总费用', '医疗费用总额'), False),
        ('fund_paid', '统筹基金支付', 'amount', True, (), ('基本医保统筹支付', '统筹支付'), False),
        ('critical_illness_paid', '大病保险支付', 'amount', True, (), ('大病保险',), False),
        ('medical_assistance_paid', '医疗救助支付', 'amount', True, (), ('医疗救助',), False),
        ('out_of_pocket', '个人自付', 'amount', True, (), ('个人自付金额', '个人负担'), False),
    ],
    'emergency': [
        ('id_number', '公民身份号码', 'id', True, (), ('身份证号', '身份证号码', '证件号码', '公民身份证号码', '户主身份证号'), False),
        ('name', '姓名', 'name', True, (), ('户主姓名', '名字'), False),
        ('disaster_type', '灾害类型', 'enum', True, ('洪涝', '干旱', '地震', '台风', '风雹', '低温冷冻', '火灾', '其他'), ('灾种',), False),
        ('disaster_date', '受灾日期', 'date', True, (), ('灾害日期', '发生日期'), True),
        ('house_damage', '房屋受损', 'enum', True, ('倒塌', '严重损坏', '一般损坏', '无'), ('房屋受损情况', '房屋损坏程度'), False),
        ('direct_loss', '直接经济损失', 'amount', True, (), ('经济损失',), False),
        ('aid_paid', '已发救助', 'amount', True, (), ('已发放救助', '已发救助金额'), False),
    ],
    'rural_revitalization': [
        ('rr_household_id', '户编号', 'text', True, (), ('户编码', '家庭编号', '户ID'), False),
        ('region_code', '行政区划代码', 'region_code', True, (), ('区划代码', '行政区划', '行政区划编码', '所属区划代码', '区划编码'), False),
        ('id_number', '公民身份号码', 'id', True, (), ('身份证号', '身份证号码', '证件号码', '公民身份证号码'), False),
        ('name', '姓名', 'name', True, (), ('名字',), False),
        ('relation', '与户主关系', 'enum', True, ('户主', '配偶', '子女', '父母', '孙子女', '其他'), ('家庭关系',), False),
        ('category', '监测类别', 'enum', True, ('脱贫户', '脱贫不稳定户', '边缘易致贫户', '突发严重困难户'), ('监测对象类别', '户类型'), False),
        ('risk_eliminated', '风险已消除', 'enum', True, ('是', '否'), ('是否风险消除', '风险是否消除'), False),
        ('annual_net_income_per_capita', '家庭年人均纯收入', 'amount', True, (), ('年人均纯收入', '人均纯收入'), False),
        ('other_income', '家庭其他月收入', 'amount', False, (), ('其他月收入',), False),
    ],
}

# rules-variants.md B.2: optional roster columns (appended after the columns above, written only
# in variant mode) and the optional source civil_affairs_decisions. No aliases of their own: only
# the shared ones of checks/contracts/aliases.yaml (家庭编号, 行政区划代码).
VETERAN_GRADES = ('一级', '二级', '三级', '四级', '五级', '六级', '七级', '八级', '九级', '十级')
PREFERENTIAL = ('军属', '烈士遗属', '因公牺牲军人遗属', '病故军人遗属', '在乡老复员军人')
VARIANT_COLUMNS = {
    'civil_affairs_households': [
        ('support_mode', '供养方式', 'enum', False, ('集中供养', '分散供养'), (), False),
        ('support_income', '赡养抚养扶养费', 'amount', False, (), (), False),
        ('pre_exit_benefit', '渐退前月保障金额', 'amount', False, (), (), False),
    ],
    'civil_affairs_members': [
        ('care_level', '护理等级', 'enum', False, ('全自理', '半护理', '全护理'), (), False),
        ('veteran_disability_grade', '残疾军人等级', 'enum', False, VETERAN_GRADES, (), False),
        ('preferential_category', '优抚对象类别', 'enum', False, PREFERENTIAL, (), False),
        ('regular_pension_subsidy', '定期抚恤补助', 'enum', False, ('是', '否'), (), False),
    ],
}
DECISIONS = 'civil_affairs_decisions'
DECISION_COLUMNS = [
    ('household_id', '家庭编号', 'text', True, (), ('家庭编码', '户编号', '家庭ID', '救助家庭编号'), False),
    ('region_code', '行政区划代码', 'region_code', True, (), ('区划代码', '行政区划', '行政区划编码', '所属区划代码', '区划编码'), False),
    ('applied_type', '申请类别', 'enum', True, ('低保', '特困', '低保边缘', '支出型困难'), (), False),
    ('decision', '审核确认结果', 'enum', True, ('通过', '未通过'), (), False),
    ('decision_date', '审核确认日期', 'date', True, (), (), True),
]


def sources_for(variants: bool) -> dict:
    """The column lists of the generated sources: rules.md's ten, or (variant mode) with the
    optional roster columns appended and civil_affairs_decisions added."""
    if not variants:
        return SOURCES
    out = {s: list(cols) + VARIANT_COLUMNS.get(s, []) for s, cols in SOURCES.items()}
    out[DECISIONS] = list(DECISION_COLUMNS)
    return out


# what verify() reads: every optional column (a file without the header: every cell empty)
ALL_COLUMNS = sources_for(True)
